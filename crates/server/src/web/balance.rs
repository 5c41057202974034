//! The balance page `/balance`: an account's money per currency — pending
//! (orders not yet delivered or within their return window), available,
//! paid out — and, when a refund took back money already paid out, what the
//! account owes, said plainly.

use super::*;

pub(super) async fn balance_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let w = Web::new(state, &headers);
    let Some((me, token)) = w.account().await else {
        return redirect("/login?next=/balance", vec![]);
    };
    let ex = &w.state.exchange;
    let b = match ex.balances(&me).await {
        Ok(b) => b,
        Err(e) => return error_page(status_of(&e), &public_message(&e)),
    };
    let csrf = ex.csrf_token(&token);
    let mut body = String::from(
        "<section id=\"balance\"><h1>Balance</h1>\
         <p class=\"muted\">Money from an order is <em>pending</em> until it is delivered and its return window has passed; then it is <em>available</em> until paid out.</p>",
    );
    for (currency, owed) in &b.owes {
        let _ = write!(
            body,
            "<p class=\"error\" role=\"alert\" id=\"owes-{c}\">You owe the exchange <strong>{a} {c}</strong>: a refund took back money that had already been paid out to you. It is deducted from what you earn next.</p>",
            a = esc(owed),
            c = esc(currency),
        );
    }
    if b.balances.is_empty() {
        body.push_str("<p id=\"no-money\">No money has moved yet.</p>");
    } else {
        body.push_str(
            "<table id=\"balances\"><tr><th scope=\"col\">Currency</th><th scope=\"col\">Pending</th>\
             <th scope=\"col\">Available</th><th scope=\"col\">Paid out</th><th scope=\"col\">In all</th></tr>",
        );
        let zero = String::from("0");
        for (currency, total) in &b.balances {
            let _ = write!(
                body,
                "<tr id=\"row-{c}\"><th scope=\"row\">{c}</th><td class=\"pending\">{p}</td><td class=\"available\">{a}</td><td class=\"paid-out\">{o}</td><td>{t}</td></tr>",
                c = esc(currency),
                p = esc(b.pending.get(currency).unwrap_or(&zero)),
                a = esc(b.available.get(currency).unwrap_or(&zero)),
                o = esc(b.paid_out.get(currency).unwrap_or(&zero)),
                t = esc(total),
            );
        }
        body.push_str("</table>");
    }
    body.push_str("</section>");
    html(
        StatusCode::OK,
        layout("Balance", "", Some(&me), &csrf, &body),
        vec![],
    )
}
