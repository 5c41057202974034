//! The web pages in two languages: Chinese from `Accept-Language` or from the
//! language switch's cookie, with `<html lang>` and `Vary` set.

use crate::harness::*;
use symbolon_client::api::*;

/// The page at `url` with the given request headers, as text.
async fn page(http: &reqwest::Client, url: &str, headers: &[(&str, &str)]) -> String {
    let mut r = http.get(url);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn the_pass_page_speaks_chinese_when_asked() {
    let srv = TestServer::start().await;
    let (_, p) = srv.account("Maker", &[Role::Provider]).await;
    let prod = p
        .create_product(&product("Kettle </script>", "home/kitchen", "30.00", 5))
        .await
        .unwrap();
    let pass = p.create_pass(&shareable(&prod.id, 500)).await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/p/{}", srv.url, pass.id);

    // English by default; the JSON-LD never holds a raw `</`.
    let en = http.get(&url).send().await.unwrap();
    assert_eq!(en.headers()["vary"], "Accept-Language, Cookie");
    // The JSON-LD is a data block, which browsers never run: the CSP admits
    // no inline script and needs no nonce for it.
    let csp = en.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = en.text().await.unwrap();
    assert!(html.contains("<html lang=\"en-US\">"), "{html}");
    assert!(html.contains("Sold and shipped by"));
    let ld = html
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .unwrap();
    assert!(
        !csp.contains("unsafe-inline")
            && !csp.contains("nonce")
            && csp.contains("script-src 'self';"),
        "{csp}"
    );
    let ld = ld.split("</script>").next().unwrap();
    assert!(!ld.contains("</"), "{ld}");
    let ld: serde_json::Value = serde_json::from_str(ld).unwrap();
    assert_eq!(ld["name"], "Kettle </script>");

    // Chinese from Accept-Language.
    let zh = page(
        &http,
        &url,
        &[("accept-language", "zh-CN,zh;q=0.9,en;q=0.8")],
    )
    .await;
    assert!(zh.contains("<html lang=\"zh-CN\">"), "{zh}");
    assert!(
        zh.contains("销售与发货：") && zh.contains("下单并付款"),
        "{zh}"
    );
    assert!(!zh.contains("Sold and shipped by"));

    // The switch: a POST sets the cookie and returns to the page; the cookie
    // wins over Accept-Language.
    let switched = http
        .post(format!("{}/lang", srv.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("lang=zh-CN&back=/p/{}", pass.id))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 303);
    assert_eq!(
        switched.headers()["location"],
        format!("/p/{}", pass.id).as_str()
    );
    let cookie = switched.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("lang=zh-CN;"), "{cookie}");
    let zh = page(
        &http,
        &url,
        &[("accept-language", "en-US"), ("cookie", "lang=zh-CN")],
    )
    .await;
    assert!(
        zh.contains("<html lang=\"zh-CN\">") && zh.contains("有效通行证"),
        "{zh}"
    );
    // Away from this site, the switch returns to sign-in instead.
    let evil = http
        .post(format!("{}/lang", srv.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=en-US&back=//evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(evil.headers()["location"], "/login");

    // The sign-in page too.
    let login = page(
        &http,
        &format!("{}/login", srv.url),
        &[("cookie", "lang=zh-CN")],
    )
    .await;
    assert!(
        login.contains("<html lang=\"zh-CN\">") && login.contains("电子邮箱"),
        "{login}"
    );
}
