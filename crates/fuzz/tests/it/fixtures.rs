//! The fixtures are what the harnesses' deep paths need: otherwise the
//! invariants after each verification would never be reached.

use symbolon_fuzz::fixtures::*;

#[test]
fn the_real_pass_verifies_fully_and_a_revoked_one_does_not() {
    let keys = jwks();
    let v = symbolon_pass::verify_full(pass_jws(), &keys, Some(status_list_jws()), now())
        .expect("the fixture pass verifies");
    assert_eq!(v.claims, pass_claims(PASS_INDEX));
    let revoked = symbolon_pass::sign_compact(
        &pass_claims(REVOKED_INDEX),
        &key(),
        symbolon_pass::PASS_TYP,
        Some("vc"),
    );
    assert_eq!(
        symbolon_pass::verify_full(&revoked, &keys, Some(status_list_jws()), now()),
        Err(symbolon_pass::PassError::Revoked)
    );
}

#[test]
fn the_real_seal_opens_with_its_shares() {
    let fx = sealed();
    let header = symbolon_seal::verify_header(&fx.header_jws, &jwks()).expect("verifies");
    assert_eq!(header, fx.sealed.header);
    let wrapped = symbolon_seal::wrap(party().recipient(), &fx.sealed.shares[1]).expect("wraps");
    let share = symbolon_seal::unwrap(party(), &wrapped).expect("unwraps");
    let id =
        symbolon_seal::combine(&header, &[fx.sealed.shares[0].clone(), share]).expect("combines");
    assert_eq!(
        symbolon_seal::open(&id, &fx.sealed.payload).as_deref(),
        Ok(SECRET)
    );
}
