//! The harnesses on proptest's inputs: arbitrary bytes after each mode
//! byte, and structured text where bytes would rarely get far.

use proptest::prelude::*;

fn run(target: &str, data: &[u8]) {
    symbolon_fuzz::target(target).expect("a known target")(data);
}

fn with_mode(mode: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(rest);
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_bytes_through_every_target(mode in any::<u8>(), rest in proptest::collection::vec(any::<u8>(), 0..256)) {
        for (target, _) in symbolon_fuzz::TARGETS {
            run(target, &with_mode(mode, &rest));
        }
    }

    #[test]
    fn edited_passes_never_verify(edits in proptest::collection::vec(any::<u8>(), 3..30)) {
        run("pass_jws", &with_mode(2, &edits));
    }

    #[test]
    fn money_text(amount in "-?[0-9]{0,21}(\\.[0-9]{0,5})?", currency in "[A-Za-z]{3}", n in any::<i64>()) {
        run("money", format!("{amount}\0{currency}\0{n}").as_bytes());
    }

    #[test]
    fn category_text(path in "( ?[a-zA-Zé家İ]{0,3} ?/){0,9}[a-zA-Z]{0,3}") {
        run("category", path.as_bytes());
    }

    #[test]
    fn real_shares_picked_and_edited(picks in proptest::collection::vec(any::<u8>(), 0..8)) {
        run("seal_share", &with_mode(2, &picks));
    }

    #[test]
    fn webhook_fields(id in "[a-z_0-9]{0,12}", ts in -5i64..5_000_000_000, sig in "(v1,[A-Za-z0-9+/=]{0,48} ?){0,3}", body in ".{0,40}") {
        let data = format!("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\0{id}\0{ts}\0{sig}\0{body}");
        run("webhook_verify", data.as_bytes());
    }
}
