//! The web app in headless Chromium: every page at phone and desktop widths,
//! in English and in Chinese, checked by axe-core and saved as a screenshot
//! to `target/test-artefacts/web/`.

use crate::chromium::{Chromium, DESKTOP, PHONE};
use crate::harness::*;
use symbolon_client::api::*;

/// The languages and widths every page is checked in.
const VIEWS: [(&str, (u32, u32), &str); 4] = [
    ("en-US", PHONE, "phone"),
    ("en-US", DESKTOP, "desktop"),
    ("zh-CN", PHONE, "phone"),
    ("zh-CN", DESKTOP, "desktop"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_pages_are_accessible_in_both_languages_and_widths() {
    let Some(tools) = Chromium::tools("the_public_pages_are_accessible") else {
        return;
    };
    let srv = TestServer::configured(
        Backend::Sqlite,
        std::sync::Arc::new(symbolon_core::SystemClock),
        |c| c.public_url = Some(LOCALHOST.into()),
    )
    .await;
    let (_, provider) = srv.account("Nordlicht Optics", &[Role::Provider]).await;
    let (h1_id, _) = srv.account("Hana's Outdoor Shop", &[Role::Holder]).await;
    let prod = provider
        .create_product(&product(
            "Trail camera TC-40",
            "electronics/cameras/trail",
            "129.00",
            20,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 1_000))
        .await
        .unwrap();
    provider.grant(&pass.id, &grant(&h1_id)).await.unwrap();
    for (lang, size, width) in VIEWS {
        let b = tools.open(size, lang).await;
        for (name, path) in [
            ("pass", format!("/p/{}?via={h1_id}", pass.id)),
            ("login", "/login".to_string()),
        ] {
            b.goto(&format!("{}{path}", srv.url)).await;
            b.wait_for("main").await;
            let html_lang = b
                .client
                .execute("return document.documentElement.lang", vec![])
                .await
                .unwrap();
            assert_eq!(html_lang.as_str(), Some(lang), "{name} in {lang}");
            b.check_page(&format!("{name}-{lang}-{width}")).await;
        }
        b.close().await;
    }
}
