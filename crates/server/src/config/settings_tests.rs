//! The settings table against the code: [`ConfigLayer`]'s fields, the
//! environment, the defaults, the README.

use super::settings::{self, Kind, SETTINGS};
use super::{ConfigLayer, ServerConfig};
use std::collections::BTreeSet;

/// The field names serde's derive hands to `deserialize_struct`: the
/// exact set of keys [`ConfigLayer`] reads, whatever is added to it later.
fn layer_fields() -> Vec<&'static str> {
    struct Spy(std::cell::Cell<Option<&'static [&'static str]>>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<T: std::fmt::Display>(_: T) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &Spy {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0.set(Some(fields));
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let spy = Spy(std::cell::Cell::new(None));
    let _ = <ConfigLayer as serde::Deserialize>::deserialize(&spy);
    spy.0.get().expect("ConfigLayer is a struct").to_vec()
}

#[test]
fn the_table_names_every_field_once() {
    let fields: BTreeSet<&str> = layer_fields().into_iter().collect();
    let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    let table: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(table.len(), names.len(), "a setting is listed twice");
    assert_eq!(
        fields, table,
        "ConfigLayer's fields and the settings table differ"
    );
    for s in SETTINGS {
        assert!(!s.help.trim().is_empty(), "{}: no help", s.name);
        assert!(
            !(s.secret && s.flag),
            "{}: a secret cannot be a flag",
            s.name
        );
    }
}

/// `config default` with every default uncommented.
fn uncommented_defaults() -> String {
    settings::default_toml()
        .lines()
        .filter_map(|l| {
            let l = l.strip_prefix('#')?;
            let name = l.split(" = ").next()?;
            (settings::setting(name).is_some() && !l.contains("# an example"))
                .then(|| l.to_string())
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn config_default_is_the_code_s_default() {
    let text = settings::default_toml();
    // Nothing is set by the file as printed: it is all comments.
    assert_eq!(settings::check(&text).unwrap(), ServerConfig::default());
    let on = uncommented_defaults();
    let given = on.lines().count();
    let with_default = SETTINGS
        .iter()
        .filter(|s| !s.secret && s.default_value().is_some())
        .count();
    assert_eq!(given, with_default, "{on}");
    assert!(given >= 20, "{on}");
    // Every default, uncommented, gives exactly the built-in configuration.
    let mut c = settings::check(&on).unwrap_or_else(|e| panic!("{e}\n{on}"));
    let d = ServerConfig::default();
    // An explicit schedule equal to the default is the default.
    assert_eq!(
        c.webhook_policy().retry_schedule,
        d.webhook_policy().retry_schedule
    );
    assert_eq!(c.mail_retry(), d.mail_retry());
    c.webhook_retry_schedule.clear();
    c.mail_retry_schedule.clear();
    assert_eq!(c, d);
    // Uncommenting an example gives valid TOML too.
    let examples: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("# an example") && !l.starts_with("#master_key"))
        .map(|l| &l[1..])
        .collect();
    assert!(!examples.is_empty());
    settings::check(&examples.join("\n")).unwrap_or_else(|e| panic!("{e}"));
    // Every setting appears, with its environment variable.
    for s in SETTINGS {
        assert!(text.contains(&format!("#{} = ", s.name)), "{}", s.name);
        assert!(text.contains(&s.env()), "{}", s.name);
    }
    // No line is longer than 100 columns (it is read in a terminal).
    assert!(text.lines().all(|l| l.chars().count() <= 110), "{text}");
}

/// The example's text as an environment variable holds it.
fn env_text(example: &toml::Value) -> String {
    match example {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[test]
fn every_example_is_valid_and_changes_its_setting() {
    for s in SETTINGS.iter().filter(|s| s.name != "master_key") {
        let line = format!("{} = {}", s.name, s.example);
        let c = settings::check(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert_ne!(c, ServerConfig::default(), "{line} changes nothing");
    }
}

#[test]
fn every_setting_reads_its_environment_variable_as_the_file_does() {
    for s in SETTINGS {
        let example = if s.name == "master_key" {
            // A valid key (the table's example is a placeholder).
            toml::Value::String("ab".repeat(32))
        } else {
            let t: toml::Table = toml::from_str(&format!("v = {}", s.example)).unwrap();
            t["v"].clone()
        };
        let kind_ok = matches!(
            (&example, s.kind),
            (toml::Value::String(_), Kind::Text | Kind::List)
                | (toml::Value::Boolean(_), Kind::Bool)
                | (toml::Value::Integer(_), Kind::Number)
        );
        assert!(
            kind_ok,
            "{}: example {example} is not a {:?}",
            s.name, s.kind
        );
        let env = ConfigLayer::from_env([(s.env(), env_text(&example))])
            .unwrap_or_else(|e| panic!("{}: {e}", s.env()));
        let mut file = toml::Table::new();
        file.insert(s.name.to_string(), example);
        let file: ConfigLayer = toml::from_str(&file.to_string()).unwrap();
        assert_ne!(env, ConfigLayer::default(), "{} is not read", s.env());
        assert_eq!(env, file, "{}", s.env());
    }
}

#[test]
fn unknown_keys_are_errors_that_name_the_key() {
    let e = settings::check("listn = \"0.0.0.0:1\"")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "unknown setting `listn` (did you mean `listen`?)");
    let e = settings::check("[server]\nlisten = \"0.0.0.0:1\"")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("unknown setting `server`"), "{e}");
    let e = settings::check("completely_else = 1")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "unknown setting `completely_else`");
    // A wrong type names the key.
    let e = settings::check("max_connections = \"many\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("max_connections"), "{e}");
    // A value out of range names the key.
    let e = settings::check("idle_timeout = \"2h\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("idle_timeout"), "{e}");
    let e = settings::check("listen = ").unwrap_err().to_string();
    assert!(e.starts_with("not TOML"), "{e}");
    // The environment: misspelt settings are found, other variables are not.
    let vars = [
        "SYMBOLON_LISTN",
        "SYMBOLON_LISTEN",
        "SYMBOLON_KEY",
        "SYMBOLON_TEST_POSTGRES_URL",
        "PATH",
    ]
    .map(|k| (k.to_string(), String::new()));
    assert_eq!(settings::unknown_env(vars), ["SYMBOLON_LISTN"]);
}

#[test]
fn secrets_are_never_printed() {
    let c = ServerConfig {
        master_key: Some("ab".repeat(32)),
        smtp_url: Some("smtp://u:hunter2@mail.example.org".into()),
        ..Default::default()
    };
    for s in SETTINGS.iter().filter(|s| s.secret) {
        let shown = (s.default)(&c).unwrap();
        assert!(
            !shown.contains("hunter2") && !shown.contains("abab"),
            "{shown}"
        );
    }
    let text = settings::default_toml();
    assert!(
        text.contains("#master_key = \"<32 bytes, base64url>\""),
        "{text}"
    );
}

/// The README's settings table is made from the table; run with
/// `SYMBOLON_UPDATE_README=1` to rewrite it.
#[test]
fn the_readme_lists_every_setting() {
    const BEGIN: &str =
        "<!-- settings:begin (made from crates/server/src/config/settings.rs by a test) -->\n";
    const END: &str = "<!-- settings:end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (readme.find(BEGIN), readme.find(END)) else {
        panic!("README.md has no settings markers");
    };
    let want = settings::markdown_table();
    let have = &readme[a + BEGIN.len()..b];
    if have != want {
        if std::env::var_os("SYMBOLON_UPDATE_README").is_some() {
            let new = format!("{}{BEGIN}{want}{}", &readme[..a], &readme[b..]);
            std::fs::write(&path, new).unwrap();
        } else {
            panic!("README.md's settings table is stale; run with SYMBOLON_UPDATE_README=1");
        }
    }
}
