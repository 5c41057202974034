//! The provider's catalogue `/catalog`: its products (each with its passes,
//! linked to their admin pages `/passes/{id}`), a form creating one
//! (`POST /catalog`) and the edit form `/catalog/{id}` (`POST` saves).
//!
//! The forms' fields are named as `POST /v1/products`' (`price` is the
//! amount, `currency` beside it); specs are key/value rows `spec_key_{i}` /
//! `spec_value_{i}`, the product's own plus [`SPEC_EXTRA_ROWS`] empty ones,
//! so more are added by saving (no JavaScript needed). The exchange checks
//! every field as for the API; a bad one answers 422 with the form again,
//! the message beside the field and every input kept.

use super::{html, redirect, AppState, FormPost, Lang, Layout, Web};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use std::collections::{BTreeMap, HashMap};
use symbolon_api as api;
use symbolon_core::limits::MAX_PAGE_LIMIT;
use symbolon_core::state::Role;
use symbolon_exchange::ExchangeError;
use symbolon_store::Account;

/// Empty spec rows the form offers beyond the product's own.
pub(super) const SPEC_EXTRA_ROWS: usize = 3;

/// The currencies the form offers.
const CURRENCIES: [&str; 5] = ["USD", "EUR", "GBP", "CNY", "JPY"];

/// The form's single-value fields (besides the spec rows).
const FIELDS: [&str; 7] = [
    "title",
    "description",
    "category",
    "price",
    "currency",
    "stock",
    "gtin",
];

/// A product as the form shows it.
pub(super) struct ProductForm {
    /// `None`: the creation form.
    pub id: Option<String>,
    pub values: HashMap<String, String>,
    pub specs: Vec<(String, String)>,
    pub errors: HashMap<String, String>,
    pub currencies: [&'static str; 5],
}

impl ProductForm {
    fn blank() -> Self {
        let mut values = HashMap::new();
        values.insert("currency".to_string(), "USD".to_string());
        Self {
            id: None,
            values,
            specs: vec![(String::new(), String::new()); SPEC_EXTRA_ROWS],
            errors: HashMap::new(),
            currencies: CURRENCIES,
        }
    }

    fn of(p: &api::Product) -> Self {
        let mut values = HashMap::new();
        values.insert("title".into(), p.title.clone());
        values.insert("description".into(), p.description.clone());
        values.insert("category".into(), p.category.clone());
        values.insert("price".into(), p.price.amount.clone());
        values.insert("currency".into(), p.price.currency.clone());
        values.insert("stock".into(), p.stock.to_string());
        values.insert("gtin".into(), p.gtin.clone().unwrap_or_default());
        let mut specs: Vec<(String, String)> = p
            .specs
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        specs.extend(vec![(String::new(), String::new()); SPEC_EXTRA_ROWS]);
        Self {
            id: Some(p.id.clone()),
            values,
            specs,
            errors: HashMap::new(),
            currencies: CURRENCIES,
        }
    }

    /// The form as posted (spec rows in order, empty ones kept for more).
    pub(super) fn posted(id: Option<String>, f: &HashMap<String, String>) -> Self {
        let values = FIELDS
            .iter()
            .map(|k| (k.to_string(), f.get(*k).cloned().unwrap_or_default()))
            .collect();
        let mut specs = Vec::new();
        let mut i = 0;
        while let Some(k) = f.get(&format!("spec_key_{i}")) {
            let v = f
                .get(&format!("spec_value_{i}"))
                .cloned()
                .unwrap_or_default();
            if !k.trim().is_empty() || !v.trim().is_empty() {
                specs.push((k.clone(), v));
            }
            i += 1;
            if i > 1_000 {
                break;
            }
        }
        specs.extend(vec![(String::new(), String::new()); SPEC_EXTRA_ROWS]);
        Self {
            id,
            values,
            specs,
            errors: HashMap::new(),
            currencies: CURRENCIES,
        }
    }

    pub fn value(&self, k: &str) -> &str {
        self.values.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn invalid(&self, k: &str) -> bool {
        self.errors.contains_key(k)
    }

    pub fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn selected(&self, c: &str) -> bool {
        self.value("currency") == c
    }

    pub fn action(&self) -> String {
        match &self.id {
            Some(id) => format!("/catalog/{id}"),
            None => "/catalog".to_string(),
        }
    }

    /// The spec rows with their indexes.
    pub fn spec_rows(&self) -> Vec<(usize, &str, &str)> {
        self.specs
            .iter()
            .enumerate()
            .map(|(i, (k, v))| (i, k.as_str(), v.as_str()))
            .collect()
    }
}

/// A product of the list with its passes.
pub(super) struct Listed {
    pub product: api::Product,
    pub passes: Vec<api::Pass>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog.html")]
struct CatalogTemplate {
    l: Layout,
    items: Vec<Listed>,
    /// The cursor of the next page of products, if there are more.
    next: Option<String>,
    form: ProductForm,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "catalog_edit.html")]
struct EditTemplate {
    l: Layout,
    product: api::Product,
    passes: Vec<api::Pass>,
    form: ProductForm,
    error: Option<String>,
}

/// The form field an exchange error names (`price.amount` → `price`,
/// `price.currency` → `currency`, `specs.x` → `specs`).
fn field_of(e: &ExchangeError) -> Option<String> {
    let field = e.details.as_ref()?.get("field")?.as_str()?;
    if field == "price.currency" {
        return Some("currency".into());
    }
    let head = field.split(['.', '[']).next().unwrap_or(field);
    (FIELDS.contains(&head) || head == "specs").then(|| head.to_string())
}

/// The posted form as the API's request; a field's message otherwise.
pub(super) fn parse(l: Lang, form: &ProductForm) -> Result<api::CreateProduct, (String, String)> {
    let stock = form
        .value("stock")
        .trim()
        .parse::<i64>()
        .map_err(|_| ("stock".to_string(), l.t("catalog-err-whole")))?;
    let mut specs = BTreeMap::new();
    for (k, v) in &form.specs {
        if k.trim().is_empty() && v.trim().is_empty() {
            continue;
        }
        if k.trim().is_empty() {
            return Err(("specs".into(), l.t("catalog-err-spec-key")));
        }
        specs.insert(k.trim().to_string(), v.trim().to_string());
    }
    let gtin = form.value("gtin").trim();
    Ok(api::CreateProduct {
        title: form.value("title").to_string(),
        description: form.value("description").to_string(),
        category: form.value("category").to_string(),
        specs,
        price: api::Money {
            amount: form.value("price").trim().to_string(),
            currency: form.value("currency").trim().to_string(),
        },
        stock,
        gtin: (!gtin.is_empty()).then(|| gtin.to_string()),
    })
}

/// A page of the provider's products (the API's page size, after the
/// cursor `after`) with their passes, and the next page's cursor.
async fn listed(
    w: &Web,
    me: &Account,
    after: Option<&str>,
) -> Result<(Vec<Listed>, Option<String>), Response> {
    let ex = &w.state.exchange;
    let products = ex
        .products(me, after, Some(MAX_PAGE_LIMIT))
        .await
        .map_err(|e| w.exchange_error(&e))?;
    let passes = ex
        .provider_passes(me)
        .await
        .map_err(|e| w.exchange_error(&e))?;
    let next = products.next.clone();
    let items = products
        .items
        .into_iter()
        .map(|p| Listed {
            passes: passes
                .iter()
                .filter(|x| x.product_id == p.id)
                .cloned()
                .collect(),
            product: p,
        })
        .collect();
    Ok((items, next))
}

async fn show_catalog(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    form: ProductForm,
    error: Option<String>,
    after: Option<&str>,
) -> Response {
    let (items, next) = match listed(w, me, after).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let t = CatalogTemplate {
        l: w.layout(w.t("catalog-title"), Some(me), csrf, "/catalog"),
        items,
        next,
        form,
        error,
    };
    html(status, t, vec![])
}

/// `GET /catalog[?after=CURSOR]`.
pub(super) async fn catalog_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let (me, _, csrf) = match w.signed_in_as("/catalog", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let after = q.get("after").map(String::as_str);
    show_catalog(
        &w,
        &me,
        &csrf,
        StatusCode::OK,
        ProductForm::blank(),
        None,
        after,
    )
    .await
}

/// A refused form: the message beside its field (422), else above the form.
fn refused(w: &Web, form: &mut ProductForm, e: &ExchangeError) -> (StatusCode, Option<String>) {
    let msg = w.public_message(e);
    match field_of(e) {
        Some(field) => {
            form.errors.insert(field, msg);
            (StatusCode::UNPROCESSABLE_ENTITY, None)
        }
        None => (w.status_of(e), Some(msg)),
    }
}

/// `POST /catalog`: creates a product.
pub(super) async fn create(FormPost { w, f }: FormPost) -> Response {
    let (me, token, csrf) = match w.signed_in_as("/catalog", Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut form = ProductForm::posted(None, &f);
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        return show_catalog(&w, &me, &csrf, StatusCode::FORBIDDEN, form, Some(msg), None).await;
    }
    let req = match parse(w.lang, &form) {
        Ok(r) => r,
        Err((field, msg)) => {
            form.errors.insert(field, msg);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show_catalog(&w, &me, &csrf, status, form, None, None).await;
        }
    };
    match w.state.exchange.create_product(&me, &req).await {
        Ok(p) => redirect(&format!("/catalog/{}", p.id), vec![]),
        Err(e) => {
            let (status, error) = refused(&w, &mut form, &e);
            show_catalog(&w, &me, &csrf, status, form, error, None).await
        }
    }
}

/// The product if it is the provider's (the API's 403 / 404 otherwise).
async fn own_product(w: &Web, me: &Account, id: &str) -> Result<api::Product, Response> {
    let ex = &w.state.exchange;
    let p = ex.product(id).await.map_err(|e| w.exchange_error(&e))?;
    if p.provider_id != me.id {
        let e = ExchangeError::forbidden("the product belongs to another provider");
        return Err(w.exchange_error(&e));
    }
    Ok(p)
}

async fn show_edit(
    w: &Web,
    me: &Account,
    csrf: &str,
    status: StatusCode,
    product: api::Product,
    form: Option<ProductForm>,
    error: Option<String>,
) -> Response {
    let passes = match w.state.exchange.provider_passes(me).await {
        Ok(p) => p
            .into_iter()
            .filter(|p| p.product_id == product.id)
            .collect(),
        Err(e) => return w.exchange_error(&e),
    };
    let here = format!("/catalog/{}", product.id);
    let t = EditTemplate {
        l: w.layout(product.title.clone(), Some(me), csrf, &here),
        form: form.unwrap_or_else(|| ProductForm::of(&product)),
        product,
        passes,
        error,
    };
    html(status, t, vec![])
}

/// `GET /catalog/{id}`: the edit form.
pub(super) async fn edit_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let w = Web::new(state, &headers);
    let here = format!("/catalog/{id}");
    let (me, _, csrf) = match w.signed_in_as(&here, Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match own_product(&w, &me, &id).await {
        Ok(p) => show_edit(&w, &me, &csrf, StatusCode::OK, p, None, None).await,
        Err(r) => r,
    }
}

/// `POST /catalog/{id}`: saves the product (every field, each checked as
/// at creation; fields its passes sign are refused once it has one).
pub(super) async fn save(Path(id): Path<String>, FormPost { w, f }: FormPost) -> Response {
    let here = format!("/catalog/{id}");
    let (me, token, csrf) = match w.signed_in_as(&here, Role::Provider).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let product = match own_product(&w, &me, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut form = ProductForm::posted(Some(id.clone()), &f);
    if !w.csrf_ok(Some(&token), f.get("csrf")) {
        let msg = w.t("error-form-foreign");
        let status = StatusCode::FORBIDDEN;
        return show_edit(&w, &me, &csrf, status, product, Some(form), Some(msg)).await;
    }
    let req = match parse(w.lang, &form) {
        Ok(r) => r,
        Err((field, msg)) => {
            form.errors.insert(field, msg);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return show_edit(&w, &me, &csrf, status, product, Some(form), None).await;
        }
    };
    let change = api::UpdateProduct {
        title: Some(req.title),
        description: Some(req.description),
        category: Some(req.category),
        specs: Some(req.specs),
        price: Some(req.price),
        stock: Some(req.stock),
        gtin: Some(req.gtin.unwrap_or_default()),
    };
    match w.state.exchange.update_product(&me, &id, &change).await {
        Ok(_) => redirect(&here, vec![]),
        Err(e) => {
            let (status, error) = refused(&w, &mut form, &e);
            show_edit(&w, &me, &csrf, status, product, Some(form), error).await
        }
    }
}
