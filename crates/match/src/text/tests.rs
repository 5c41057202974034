use super::*;

fn texts(q: &str) -> Vec<String> {
    Terms::of_query(q).0.into_iter().map(|t| t.text).collect()
}

fn has(doc: &str, term: &str) -> bool {
    let t = Terms::of_query(term);
    let (counts, _) = token_counts(doc);
    let get = |x: &str| counts.get(x).copied().unwrap_or(0);
    (0..t.len()).all(|i| t.tf(i, get) + t.tf_derived(i, get) > 0)
}

#[test]
fn model_numbers_joined_split_and_apart() {
    let t = Terms::of_query("Sony WH-1000XM5");
    assert_eq!(texts("Sony WH-1000XM5"), vec!["sony", "wh1000xm5"]);
    assert_eq!(t.0[1].parts, ["wh", "1000xm5"]);
    assert!(t.0[1].model && !t.0[0].model);
    for doc in [
        "Sony WH-1000XM5 headphones",
        "SONY WH1000XM5",
        "Sony WH 1000XM5",
        "Sony WH 1000 XM5",
        "sony wh/1000xm5",
    ] {
        for q in ["WH1000XM5", "WH-1000XM5", "wh 1000 xm5", "wh1000xm5"] {
            assert!(has(doc, q), "{q:?} should find {doc:?}");
        }
    }
    assert!(!has("Sony WH-1000XM4", "WH-1000XM5"));
    assert!(!has("Sony Bravia 65 inch TV", "WH1000XM5"));
    // Prefixes at letter/digit boundaries: a colour suffix still finds the model.
    assert!(has("Sony KDL-40EX400B", "KDL40EX400"));
}

#[test]
fn units_are_normalised() {
    for (a, b) in [
        ("2TB", "2 TB"),
        ("16GB", "16 GB"),
        ("65W", "65 watts"),
        ("500ml", "500 ML"),
        ("2.5TB", "2.5 terabytes"),
        ("65 inch", "65in"),
    ] {
        assert!(has(&format!("Drive {a}"), b), "{b:?} should find {a:?}");
        assert!(has(&format!("Drive {b}"), a), "{a:?} should find {b:?}");
    }
    assert_eq!(texts("2 TB drive"), vec!["2tb", "drive"]);
    assert!(!has("Drive 2TB", "3TB"));
    assert!(!is_model("2tb") && is_model("wh1000xm5") && is_model("1163641") && !is_model("4k"));
}

#[test]
fn chinese_without_spaces() {
    assert_eq!(texts("降噪耳机"), vec!["降噪", "耳机"]);
    assert!(has("索尼 WH-1000XM5 无线降噪耳机", "降噪耳机"));
    assert!(!has("蓝牙耳机", "降噪耳机"));
    assert!(has("耳机", "机"));
    assert_eq!(texts("华为 Mate60 手机"), vec!["华为", "mate60", "手机"]);
    assert!(has("华为Mate60 5G手机", "华为 Mate60 手机"));
    let t = texts("笔记本电脑");
    assert!(t.iter().all(|x| x.chars().count() == 2), "{t:?}");
    assert!(has("联想笔记本电脑", "笔记本电脑"));
}

#[test]
fn weak_words_are_not_terms_unless_alone() {
    assert_eq!(
        texts("Wi-Fi 6 router for the office"),
        vec!["wifi", "router", "office"]
    );
    assert_eq!(texts("the 6"), vec!["the", "6"]);
}

#[test]
fn tokens_of_compounds_and_decimals() {
    let mut got: Vec<String> = tokens("USB-C 2.0 hub, a-b").into_iter().collect();
    got.sort();
    // `2.0 hub`: neighbours written apart, one holding a digit, join.
    let mut want = vec!["usb", "c", "usbc", "2.0", "2.0hub", "hub", "a", "b", "ab"];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn brands() {
    assert_eq!(brand_key("Western Digital"), "westerndigital");
    assert_eq!(
        spec_brand(&[("Brand".into(), "Sony".into())]),
        Some("sony".into())
    );
    assert_eq!(
        title_heads("Western Digital 2TB drive"),
        [Some("western".into()), Some("westerndigital".into())]
    );
    let c = query_brand_candidates(&Terms::of_query("western digital drive"));
    assert!(c
        .iter()
        .any(|(k, t)| k == "westerndigital" && *t == vec![0, 1]));
}

#[test]
fn model_variants_are_shorter_forms_a_shop_may_write() {
    assert_eq!(model_variants("c270h", &[]), ["c270"]);
    assert_eq!(model_variants("lp34992", &[]), ["34992"]);
    assert_eq!(
        model_variants("msmt2gtq", &["msmt2g".into(), "tq".into()]),
        ["msmt2g", "msmt2"]
    );
    // Digits that are less than half of the model number are no variant.
    assert!(!model_variants("wh1000xm5", &[]).contains(&"1000".to_string()));
    let t = Terms::of_query("Logitech C270H");
    let (counts, _) = token_counts("Logitech HD Webcam C270");
    assert_eq!(t.tf_derived(1, |x| counts.get(x).copied().unwrap_or(0)), 1);
}
