//! The sealed-secret API refuses what it can check: a header not signed by
//! the provider's registered key or naming another pass, a payload that is
//! not the signed one, oversized or non-age shares, shares to non-holders,
//! releases before payment or by another provider. (The end-to-end flow with
//! the real CLI is in the CLI's tests.)

use crate::harness::*;
use base64::Engine as _;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_seal as seal;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn register(c: &Client) -> (seal::Identity, symbolon_pass::ProviderKey) {
    let id = seal::Identity::generate();
    let key = symbolon_pass::ProviderKey::from_secret_bytes(rand_seed());
    c.set_party_keys(&SetPartyKeys {
        age_recipient: id.recipient().into(),
        signing_jwk: serde_json::to_value(key.jwk()).unwrap(),
    })
    .await
    .unwrap();
    (id, key)
}

/// A distinct signing seed per registration in this test.
fn rand_seed() -> [u8; 32] {
    static NEXT: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);
    [NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed); 32]
}

#[tokio::test]
async fn the_sealed_secret_api_refuses_what_it_can_check() {
    let srv = TestServer::start().await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let (_, other_provider) = srv.account("Other", &[Role::Provider]).await;
    let (h_id, holder) = srv.account("Hana", &[Role::Holder]).await;
    let (stranger_id, _stranger) = srv.account("Sam", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product("Router", "electronics/network", "89.00", 5))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 500))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h_id)).await.unwrap();

    // Keys: must be an age recipient and an Ed25519 JWK.
    let bad = provider
        .set_party_keys(&SetPartyKeys {
            age_recipient: "age1nope".into(),
            signing_jwk: serde_json::json!({}),
        })
        .await;
    assert_eq!(
        assert_api_err(bad, 400, "invalid_field").unwrap()["field"],
        "age_recipient"
    );
    assert_api_err(provider.party_keys(&h_id).await, 409, "party_keys_missing");
    let sealed = seal::seal(&pass.id, b"admin: hunter2", 2, 2).unwrap();
    let upload = |header: String, payload: Vec<u8>| PassSeal {
        header,
        payload: b64(&payload),
    };
    let other_key = symbolon_pass::ProviderKey::from_secret_bytes([9; 32]);
    // Without registered keys, nothing can be checked: refused.
    assert_api_err(
        provider
            .put_seal(
                &pass.id,
                &upload(
                    seal::sign_header(&sealed.header, &other_key),
                    sealed.payload.clone(),
                ),
            )
            .await,
        409,
        "party_keys_missing",
    );
    let (_, key) = register(&provider).await;
    register(&holder).await;
    let keys = provider.party_keys(&provider_id).await.unwrap();
    assert_eq!(keys.fingerprint, seal::fingerprint(&keys.age_recipient));

    // A header signed by another key, naming another pass, or a payload not the signed one.
    let err = provider
        .put_seal(
            &pass.id,
            &upload(
                seal::sign_header(&sealed.header, &other_key),
                sealed.payload.clone(),
            ),
        )
        .await;
    assert_eq!(
        assert_api_err(err, 400, "invalid_field").unwrap()["field"],
        "header"
    );
    let mut elsewhere = sealed.header.clone();
    elsewhere.pass = "pas_other".into();
    let err = provider
        .put_seal(
            &pass.id,
            &upload(seal::sign_header(&elsewhere, &key), sealed.payload.clone()),
        )
        .await;
    assert_eq!(
        assert_api_err(err, 400, "invalid_field").unwrap()["field"],
        "header"
    );
    let mut tampered = sealed.payload.clone();
    let n = tampered.len();
    tampered[n - 1] ^= 1;
    let err = provider
        .put_seal(
            &pass.id,
            &upload(seal::sign_header(&sealed.header, &key), tampered),
        )
        .await;
    assert_eq!(
        assert_api_err(err, 400, "invalid_field").unwrap()["field"],
        "payload"
    );
    // Another provider's pass.
    register(&other_provider).await;
    assert_api_err(
        other_provider
            .put_seal(
                &pass.id,
                &upload(
                    seal::sign_header(&sealed.header, &key),
                    sealed.payload.clone(),
                ),
            )
            .await,
        403,
        "forbidden",
    );
    assert_api_err(holder.pass_seal(&pass.id).await, 409, "not_sealed");
    let good = upload(
        seal::sign_header(&sealed.header, &key),
        sealed.payload.clone(),
    );
    provider.put_seal(&pass.id, &good).await.unwrap();
    assert_api_err(
        provider.put_seal(&pass.id, &good).await,
        409,
        "already_sealed",
    );
    assert_eq!(holder.pass_seal(&pass.id).await.unwrap(), good);

    // Shares: only age files, only to holders of the pass.
    let hk = provider.party_keys(&h_id).await.unwrap();
    let wrapped = b64(&seal::wrap(&hk.age_recipient, &sealed.shares[0]).unwrap());
    let to = |holder_id: &str, wrapped: &str| ShareToHolder {
        holder_id: holder_id.into(),
        wrapped: wrapped.into(),
    };
    let err = provider
        .share_to_holder(&pass.id, &to(&stranger_id, &wrapped))
        .await;
    assert_eq!(
        assert_api_err(err, 422, "invalid_value").unwrap()["field"],
        "holder_id"
    );
    let err = provider
        .share_to_holder(&pass.id, &to(&h_id, &b64(b"a plain share, not wrapped")))
        .await;
    assert_eq!(
        assert_api_err(err, 400, "invalid_field").unwrap()["field"],
        "wrapped"
    );
    let huge = b64(&[
        b"age-encryption.org/v1\n".as_slice(),
        &vec![0u8; seal::MAX_WRAPPED_SHARE_BYTES],
    ]
    .concat());
    assert_api_err(
        provider.share_to_holder(&pass.id, &to(&h_id, &huge)).await,
        400,
        "invalid_field",
    );
    assert_api_err(
        holder.share_to_holder(&pass.id, &to(&h_id, &wrapped)).await,
        403,
        "forbidden",
    );
    provider
        .share_to_holder(&pass.id, &to(&h_id, &wrapped))
        .await
        .unwrap();
    let mine = holder.my_shares(&pass.id).await.unwrap();
    assert_eq!(mine.items.len(), 1);
    assert_eq!(mine.items[0].kind, "holder");
    assert!(
        provider.my_shares(&pass.id).await.unwrap().items.is_empty(),
        "addressed to the holder only"
    );

    // Releases: only the order's provider, only once paid.
    let (h2_id, h2) = srv.account("Hugo", &[Role::Holder]).await;
    provider.grant(&pass.id, &grant(&h2_id)).await.unwrap();
    let (_, buyer) = srv.account("Rita", &[Role::Requester]).await;
    buyer
        .set_requester_profile(&profile("4242424242424242"))
        .await
        .unwrap();
    register(&buyer).await;
    buyer.create_demand(&demand("router")).await.unwrap();
    let i = holder.inbox(None, None).await.unwrap().items.remove(0);
    let offer = holder
        .offer(
            &i.id,
            &CreateOffer {
                pass_id: pass.id.clone(),
                note: None,
            },
        )
        .await
        .unwrap();
    let rk = holder.offer_requester_keys(&offer.id).await.unwrap();
    assert_api_err(
        other_provider.offer_requester_keys(&offer.id).await,
        403,
        "forbidden",
    );
    let to_buyer = b64(&seal::wrap(&rk.age_recipient, &sealed.shares[0]).unwrap());
    let shares = WrappedShares {
        wrapped: vec![to_buyer.clone()],
    };
    assert_api_err(
        h2.share_with_offer(&offer.id, &shares).await,
        403,
        "forbidden",
    );
    assert_api_err(
        holder
            .share_with_offer(&offer.id, &WrappedShares { wrapped: vec![] })
            .await,
        400,
        "invalid_field",
    );
    holder.share_with_offer(&offer.id, &shares).await.unwrap();
    buyer.accept(&offer.id).await.unwrap();
    let order = buyer
        .create_order(&order(&offer.id, 1, false))
        .await
        .unwrap();
    let release = WrappedShares {
        wrapped: vec![b64(
            &seal::wrap(&rk.age_recipient, &sealed.shares[1]).unwrap()
        )],
    };
    assert_api_err(
        provider.release_shares(&order.id, &release).await,
        409,
        "invalid_state",
    );
    buyer.pay_order(&order.id).await.unwrap();
    assert_api_err(
        other_provider.release_shares(&order.id, &release).await,
        403,
        "forbidden",
    );
    provider.release_shares(&order.id, &release).await.unwrap();
    let got = buyer.my_shares(&pass.id).await.unwrap();
    let mut kinds: Vec<&str> = got.items.iter().map(|s| s.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["offer", "release"]);
    // Once each: a second share with the offer, or a second release, is refused.
    assert_api_err(
        holder.share_with_offer(&offer.id, &shares).await,
        409,
        "shares_already_sent",
    );
    assert_api_err(
        provider.release_shares(&order.id, &release).await,
        409,
        "shares_already_sent",
    );
    assert_api_err(
        holder
            .share_with_offer(
                &offer.id,
                &WrappedShares {
                    wrapped: vec![to_buyer.clone(), to_buyer.clone()],
                },
            )
            .await,
        400,
        "invalid_field",
    );
    srv.stop().await;
}
