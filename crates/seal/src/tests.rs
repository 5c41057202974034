use super::*;

const SECRET: &[u8] = b"admin password: correct horse battery staple";

fn party() -> Identity {
    Identity::generate()
}

#[test]
fn two_of_two_opens_with_both_shares_only() {
    let sealed = seal("pas_1", SECRET, 2, 2).unwrap();
    let (holder, provider, requester) = (party(), party(), party());
    // The holder's share reaches the requester re-wrapped; the provider's directly.
    let h = unwrap(
        &holder,
        &wrap(holder.recipient(), &sealed.shares[0]).unwrap(),
    )
    .unwrap();
    let h = unwrap(&requester, &wrap(requester.recipient(), &h).unwrap()).unwrap();
    let p = unwrap(
        &requester,
        &wrap(requester.recipient(), &sealed.shares[1]).unwrap(),
    )
    .unwrap();
    let _ = provider;
    let id = combine(&sealed.header, &[h.clone(), p.clone()]).unwrap();
    assert_eq!(open(&id, &sealed.payload).unwrap(), SECRET);
    for one in [vec![h.clone()], vec![p.clone()], vec![h.clone(), h]] {
        assert!(matches!(
            combine(&sealed.header, &one),
            Err(SealError::NotEnoughShares { have: 1, need: 2 })
        ));
    }
}

#[test]
fn three_of_five_opens_with_any_three_and_never_with_two() {
    let sealed = seal("pas_1", SECRET, 3, 5).unwrap();
    let s = &sealed.shares;
    let mut opened = 0;
    for a in 0..5 {
        for b in a + 1..5 {
            // Any two: refused.
            assert!(combine(&sealed.header, &[s[a].clone(), s[b].clone()]).is_err());
            // Two shares claiming a 2-of-n seal rebuild another identity: refused.
            let mut lie = sealed.header.clone();
            lie.k = 2;
            assert_eq!(
                combine(&lie, &[s[a].clone(), s[b].clone()]).unwrap_err(),
                SealError::WrongShares
            );
            for c in b + 1..5 {
                let id =
                    combine(&sealed.header, &[s[a].clone(), s[b].clone(), s[c].clone()]).unwrap();
                assert_eq!(open(&id, &sealed.payload).unwrap(), SECRET);
                opened += 1;
            }
        }
    }
    assert_eq!(opened, 10, "all C(5,3) subsets");
}

#[test]
fn wrong_foreign_and_tampered_shares_fail() {
    let sealed = seal("pas_1", SECRET, 2, 2).unwrap();
    let other = seal("pas_1", SECRET, 2, 2).unwrap();
    let foreign = combine(
        &sealed.header,
        &[sealed.shares[0].clone(), other.shares[1].clone()],
    );
    assert!(matches!(foreign, Err(SealError::ForeignShare(_))));
    // Another seal's share relabelled as ours rebuilds a wrong identity.
    let mut relabelled = other.shares[1].clone();
    relabelled.seal = sealed.header.seal.clone();
    assert_eq!(
        combine(&sealed.header, &[sealed.shares[0].clone(), relabelled]).unwrap_err(),
        SealError::WrongShares
    );
    // A flipped bit in a share.
    let mut bytes = STANDARD.decode(&sealed.shares[1].share).unwrap();
    bytes[5] ^= 1;
    let mut flipped = sealed.shares[1].clone();
    flipped.share = STANDARD.encode(bytes);
    assert_eq!(
        combine(&sealed.header, &[sealed.shares[0].clone(), flipped]).unwrap_err(),
        SealError::WrongShares
    );
    // A share for another pass.
    let mut moved = sealed.shares[1].clone();
    moved.pass = "pas_2".into();
    assert!(matches!(
        combine(&sealed.header, &[sealed.shares[0].clone(), moved]),
        Err(SealError::ForeignShare(_))
    ));
    // Wrapped to someone else.
    let (a, b) = (party(), party());
    let w = wrap(a.recipient(), &sealed.shares[0]).unwrap();
    assert!(matches!(unwrap(&b, &w), Err(SealError::Unwrap(_))));
    assert!(matches!(
        unwrap(&a, &w[..w.len() - 1]),
        Err(SealError::Unwrap(_))
    ));
}

#[test]
fn tampered_payloads_and_headers_fail() {
    let key = symbolon_pass::ProviderKey::from_secret_bytes([7; 32]);
    let jwks = symbolon_pass::Jwks {
        keys: vec![key.jwk()],
    };
    let sealed = seal("pas_1", SECRET, 2, 2).unwrap();
    let jws = sign_header(&sealed.header, &key);
    let header = verify_header(&jws, &jwks).unwrap();
    assert_eq!(header, sealed.header);
    check_payload(&header, &sealed.payload).unwrap();
    let mut tampered = sealed.payload.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(
        check_payload(&header, &tampered).unwrap_err(),
        SealError::PayloadTampered
    );
    let id = combine(&header, &sealed.shares).unwrap();
    assert!(
        matches!(open(&id, &tampered), Err(SealError::Decrypt(_))),
        "age authenticates too"
    );
    // A header signed by another key, or changed.
    let other = symbolon_pass::ProviderKey::from_secret_bytes([8; 32]);
    assert!(matches!(
        verify_header(&sign_header(&sealed.header, &other), &jwks),
        Err(SealError::BadHeader(_))
    ));
    let mut parts: Vec<String> = jws.split('.').map(str::to_string).collect();
    let mut changed = sealed.header.clone();
    changed.pass = "pas_2".into();
    parts[1] = symbolon_pass::encode_claims(&serde_json::to_value(&changed).unwrap());
    assert!(matches!(
        verify_header(&parts.join("."), &jwks),
        Err(SealError::BadHeader(_))
    ));
}

#[test]
fn decompression_bombs_and_sizes_are_refused() {
    // 10 MiB of zeros compresses to a few hundred bytes.
    let bomb = zstd::bulk::compress(&vec![0u8; 10 * 1024 * 1024], 19).unwrap();
    assert!(bomb.len() < 2048);
    assert_eq!(
        decompress_capped(&bomb, MAX_SECRET_BYTES).unwrap_err(),
        SealError::TooLarge
    );
    let id = party();
    let payload = age::encrypt(&parse_recipient(id.recipient()).unwrap(), &bomb).unwrap();
    assert_eq!(open(&id, &payload).unwrap_err(), SealError::TooLarge);
    assert!(matches!(
        decompress_capped(b"not zstd", 100),
        Err(SealError::Decompress(_))
    ));
    assert_eq!(seal("p", b"", 2, 2).unwrap_err(), SealError::SecretSize);
    assert_eq!(
        seal("p", &vec![1u8; MAX_SECRET_BYTES + 1], 2, 2).unwrap_err(),
        SealError::SecretSize
    );
    assert_eq!(
        seal("p", SECRET, 1, 2).unwrap_err(),
        SealError::Threshold { k: 1, n: 2 }
    );
    assert_eq!(
        seal("p", SECRET, 3, 2).unwrap_err(),
        SealError::Threshold { k: 3, n: 2 }
    );
    assert_eq!(
        seal("p", SECRET, 2, 17).unwrap_err(),
        SealError::Threshold { k: 2, n: 17 }
    );
    // The largest secret round-trips.
    let big: Vec<u8> = (0..MAX_SECRET_BYTES).map(|i| (i * 7 % 251) as u8).collect();
    let sealed = seal("p", &big, 2, 3).unwrap();
    let id = combine(&sealed.header, &sealed.shares[1..]).unwrap();
    assert_eq!(open(&id, &sealed.payload).unwrap(), big);
}

#[test]
fn identities_round_trip_and_fingerprints_are_stable() {
    let id = party();
    assert!(id.secret().starts_with("AGE-SECRET-KEY-1"));
    assert!(id.recipient().starts_with("age1"));
    let again = Identity::parse(id.secret()).unwrap();
    assert_eq!(again.recipient(), id.recipient());
    assert!(Identity::parse("AGE-SECRET-KEY-1NOPE").is_err());
    assert!(parse_recipient("age1nope").is_err());
    assert_eq!(
        fingerprint(id.recipient()),
        fingerprint(&format!(" {} ", id.recipient()))
    );
    assert_eq!(fingerprint(id.recipient()).len(), 39);
    assert!(!format!("{id:?}").contains(id.secret()));
}
