//! Row → record conversions shared by the SQL backends.
//!
//! Both backends select the same column names, so one body of mapping code
//! serves both: [`sql_row_mappers!`] expands it for a backend's row type. (A
//! macro rather than generics: the decode bounds of every column type would
//! otherwise have to be repeated on every function.)

/// Expands the row → record functions for a sqlx row type and database, e.g.
/// `sql_row_mappers!(sqlx::sqlite::SqliteRow, sqlx::Sqlite)`. The expansion site
/// must have a `super::db(sqlx::Error) -> StoreError` function.
#[macro_export]
macro_rules! sql_row_mappers {
    ($row:ty, $db:ty) => {
        use symbolon_core::reputation::ReputationCounts;
        use symbolon_core::state::{InteractionStatus, OfferStatus, OrderStatus, PassMode, Role};
        use symbolon_core::Timestamp;
        use symbolon_store::*;

        fn get<'r, T>(row: &'r $row, col: &str) -> StoreResult<T>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            sqlx::Row::try_get(row, col).map_err(super::db)
        }

        fn ts(row: &$row, col: &str) -> StoreResult<Timestamp> {
            Ok(Timestamp::from_millis(get::<i64>(row, col)?))
        }

        fn opt_ts(row: &$row, col: &str) -> StoreResult<Option<Timestamp>> {
            Ok(get::<Option<i64>>(row, col)?.map(Timestamp::from_millis))
        }

        fn json<T: serde::de::DeserializeOwned>(s: &str, what: &str) -> StoreResult<T> {
            serde_json::from_str(s).map_err(|e| StoreError::corrupt(format!("{what}: {e}")))
        }

        pub fn to_json<T: serde::Serialize>(v: &T) -> String {
            serde_json::to_string(v).unwrap_or_else(|_| "null".into())
        }

        pub fn strings_to_json(v: &[String]) -> String {
            to_json(&v)
        }

        pub fn specs_to_json(v: &[(String, String)]) -> String {
            to_json(&v)
        }

        pub fn roles_to_str(roles: &[Role]) -> String {
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }

        pub fn event_from(row: &$row) -> StoreResult<EventRecord> {
            Ok(EventRecord {
                seq: get(row, "seq")?,
                account_id: get(row, "account_id")?,
                kind: get(row, "type")?,
                data: get(row, "data")?,
                created_at: ts(row, "created_at")?,
            })
        }

        pub fn webhook_from(row: &$row) -> StoreResult<WebhookEndpoint> {
            Ok(WebhookEndpoint {
                id: get(row, "id")?,
                account_id: get(row, "account_id")?,
                url: get(row, "url")?,
                secret: get(row, "secret")?,
                previous_secret: get(row, "previous_secret")?,
                previous_until: opt_ts(row, "previous_until")?,
                created_at: ts(row, "created_at")?,
                disabled_at: opt_ts(row, "disabled_at")?,
                disabled_reason: get(row, "disabled_reason")?,
                failing_since: opt_ts(row, "failing_since")?,
                pending: get(row, "pending")?,
            })
        }

        pub fn attempt_from(row: &$row) -> StoreResult<DeliveryAttempt> {
            Ok(DeliveryAttempt {
                endpoint_id: get(row, "endpoint_id")?,
                event_seq: get(row, "event_seq")?,
                attempt: get(row, "attempt")?,
                at: ts(row, "at")?,
                status: get(row, "status")?,
                error: get(row, "error")?,
                duration_ms: get(row, "duration_ms")?,
                outcome: get(row, "outcome")?,
            })
        }

        pub fn account_from(row: &$row) -> StoreResult<Account> {
            let roles: String = get(row, "roles")?;
            let roles = roles
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Role::parse(s).ok_or_else(|| StoreError::corrupt(format!("role {s}"))))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Account {
                id: get(row, "id")?,
                name: get(row, "name")?,
                roles,
                created_at: ts(row, "created_at")?,
            })
        }

        pub fn provider_key_from(row: &$row) -> StoreResult<ProviderKeyRecord> {
            let arr = |col: &str| -> StoreResult<[u8; 32]> {
                let v: Vec<u8> = get(row, col)?;
                <[u8; 32]>::try_from(v)
                    .map_err(|_| StoreError::corrupt(format!("{col} is not 32 bytes")))
            };
            Ok(ProviderKeyRecord {
                kid: get(row, "kid")?,
                provider_id: get(row, "provider_id")?,
                public_key: arr("public_key")?,
                secret: get(row, "secret")?,
                created_at: ts(row, "created_at")?,
                retired_at: opt_ts(row, "retired_at")?,
            })
        }

        /// A product; `at` names the created_at column (aliased in joins).
        pub fn product_from(row: &$row, joined: &str) -> StoreResult<Product> {
            let specs: String = get(row, "specs")?;
            let (id_col, at_col) = if joined.is_empty() {
                ("id", "created_at")
            } else {
                ("product_id", "pr_at")
            };
            Ok(Product {
                id: get(row, id_col)?,
                provider_id: get(row, "provider_id")?,
                title: get(row, "title")?,
                description: get(row, "description")?,
                category: get(row, "category")?,
                specs: json(&specs, "product specs")?,
                price_minor: get(row, "price_minor")?,
                currency: get(row, "currency")?,
                stock: get(row, "stock")?,
                created_at: ts(row, at_col)?,
                gtin: get(row, "gtin")?,
                archived_at: opt_ts(row, "archived_at")?,
                revision: get(row, "revision")?,
            })
        }

        pub fn pass_from(row: &$row) -> StoreResult<Pass> {
            let mode: String = get(row, "mode")?;
            Ok(Pass {
                id: get(row, "p_id")?,
                product_id: get(row, "product_id")?,
                provider_id: get(row, "provider_id")?,
                mode: PassMode::parse(&mode)
                    .ok_or_else(|| StoreError::corrupt(format!("pass mode {mode}")))?,
                units: get(row, "units")?,
                commission_bps: get(row, "commission_bps")?,
                valid_from: ts(row, "valid_from")?,
                valid_until: opt_ts(row, "valid_until")?,
                jws: get(row, "jws")?,
                created_at: ts(row, "p_at")?,
                kid: get(row, "kid")?,
                status_index: get(row, "status_index")?,
                revoked_at: opt_ts(row, "revoked_at")?,
            })
        }

        pub fn holding_from(row: &$row) -> StoreResult<Holding> {
            let pass = pass_from(row)?;
            let unique = pass.mode == PassMode::Unique;
            let granted: i64 = get(row, "granted")?;
            let left: i64 = get(row, "units_left")?;
            Ok(Holding {
                grant_id: get(row, "g_id")?,
                holder_id: get(row, "g_holder")?,
                product: product_from(row, "joined")?,
                pass,
                units_granted: unique.then_some(granted),
                units_left: unique.then_some(left),
                granted_at: ts(row, "g_at")?,
            })
        }

        pub fn holder_from(row: &$row) -> StoreResult<HolderState> {
            let fields: Option<String> = get(row, "fields")?;
            let count = |c: &str| -> StoreResult<u64> { Ok(get::<i64>(row, c)?.max(0) as u64) };
            Ok(HolderState {
                id: get(row, "id")?,
                name: get(row, "name")?,
                fields: match fields {
                    Some(f) => json(&f, "holder fields")?,
                    None => Vec::new(),
                },
                reputation: ReputationCounts {
                    positive: count("positive")?,
                    ratings: count("ratings")?,
                    offered: count("offered")?,
                    interactions: count("decided")?,
                },
            })
        }

        pub fn demand_from(row: &$row) -> StoreResult<DemandRecord> {
            let fields: String = get(row, "fields")?;
            Ok(DemandRecord {
                id: get(row, "id")?,
                requester_id: get(row, "requester_id")?,
                query: get(row, "query")?,
                category: get(row, "category")?,
                max_price_minor: get(row, "max_price_minor")?,
                currency: get(row, "currency")?,
                min_positive_rate: get(row, "min_positive_rate")?,
                min_success_rate: get(row, "min_success_rate")?,
                min_ratings: get(row, "min_ratings")?,
                fields: json(&fields, "demand fields")?,
                min_holders: get(row, "min_holders")?,
                max_holders: get(row, "max_holders")?,
                ttl_seconds: get(row, "ttl_seconds")?,
                deadline: get(row, "deadline")?,
                created_at: get(row, "created_at")?,
                accepted_offer_id: get(row, "accepted_offer_id")?,
                waiting: get::<i64>(row, "waiting")? == 1,
                cancelled_at: get(row, "cancelled_at")?,
            })
        }

        pub fn interaction_from(row: &$row) -> StoreResult<Interaction> {
            let status: String = get(row, "status")?;
            let matched: String = get(row, "matched_pass_ids")?;
            let why: String = get(row, "why")?;
            Ok(Interaction {
                id: get(row, "id")?,
                demand_id: get(row, "demand_id")?,
                holder_id: get(row, "holder_id")?,
                rank: get(row, "rank")?,
                status: InteractionStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("interaction status {status}")))?,
                deadline: ts(row, "deadline")?,
                matched_pass_ids: json(&matched, "matched pass ids")?,
                why: json(&why, "why")?,
                created_at: ts(row, "created_at")?,
                decided_at: opt_ts(row, "decided_at")?,
                seq: get(row, "seq")?,
                decline_reason: get(row, "decline_reason")?,
            })
        }

        pub fn offer_from(row: &$row) -> StoreResult<Offer> {
            let status: String = get(row, "status")?;
            Ok(Offer {
                id: get(row, "id")?,
                interaction_id: get(row, "interaction_id")?,
                demand_id: get(row, "demand_id")?,
                holder_id: get(row, "holder_id")?,
                requester_id: get(row, "requester_id")?,
                pass_id: get(row, "pass_id")?,
                note: get(row, "note")?,
                status: OfferStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("offer status {status}")))?,
                created_at: ts(row, "created_at")?,
                accepted_at: opt_ts(row, "accepted_at")?,
                licence_jws: get(row, "licence_jws")?,
                unit_no: get(row, "unit_no")?,
            })
        }

        pub fn order_from(row: &$row) -> StoreResult<Order> {
            let status: String = get(row, "status")?;
            let ship_to: String = get(row, "ship_to")?;
            Ok(Order {
                id: get(row, "id")?,
                offer_id: get(row, "offer_id")?,
                requester_id: get(row, "requester_id")?,
                provider_id: get(row, "provider_id")?,
                holder_id: get(row, "holder_id")?,
                product_id: get(row, "product_id")?,
                pass_id: get(row, "pass_id")?,
                quantity: get(row, "quantity")?,
                unit_price_minor: get(row, "unit_price_minor")?,
                total_minor: get(row, "total_minor")?,
                commission_minor: get(row, "commission_minor")?,
                currency: get(row, "currency")?,
                status: OrderStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("order status {status}")))?,
                ship_to: json(&ship_to, "ship_to")?,
                payment_ref: get(row, "payment_ref")?,
                created_at: ts(row, "created_at")?,
                paid_at: opt_ts(row, "paid_at")?,
                shipped_at: opt_ts(row, "shipped_at")?,
                unit_no: get(row, "unit_no")?,
                pay_by: opt_ts(row, "pay_by")?,
                seq: get(row, "seq")?,
                after_sale: AfterSale {
                    refunded_minor: get(row, "refunded_minor")?,
                    refund_claimed_minor: get(row, "refund_claimed_minor")?,
                    commission_reversed_minor: get(row, "commission_reversed_minor")?,
                    delivered_at: opt_ts(row, "delivered_at")?,
                    cancelled_at: opt_ts(row, "cancelled_at")?,
                    cancel_reason: get(row, "cancel_reason")?,
                    cancelled_by: get(row, "cancelled_by")?,
                    return_status: {
                        let s: Option<String> = get(row, "return_status")?;
                        s.map(|s| {
                            symbolon_core::state::ReturnStatus::parse(&s)
                                .ok_or_else(|| StoreError::corrupt(format!("return status {s}")))
                        })
                        .transpose()?
                    },
                    return_reason: get(row, "return_reason")?,
                    return_requested_at: opt_ts(row, "return_requested_at")?,
                    dispute_id: get(row, "dispute_id")?,
                    settled_at: opt_ts(row, "settled_at")?,
                    tracking: get(row, "tracking")?,
                },
            })
        }

        pub fn refund_from(row: &$row) -> StoreResult<Refund> {
            let kind: String = get(row, "kind")?;
            let status: String = get(row, "status")?;
            Ok(Refund {
                id: get(row, "id")?,
                order_id: get(row, "order_id")?,
                kind: symbolon_core::state::RefundKind::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt(format!("refund kind {kind}")))?,
                amount_minor: get(row, "amount_minor")?,
                reason: get(row, "reason")?,
                by_id: get(row, "by_id")?,
                dispute_id: get(row, "dispute_id")?,
                status: symbolon_core::state::RefundStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("refund status {status}")))?,
                gateway_ref: get(row, "gateway_ref")?,
                commission_reversed_minor: get(row, "commission_reversed_minor")?,
                created_at: ts(row, "created_at")?,
                completed_at: opt_ts(row, "completed_at")?,
            })
        }

        pub fn dispute_from(row: &$row) -> StoreResult<Dispute> {
            let kind: String = get(row, "kind")?;
            let status: String = get(row, "status")?;
            Ok(Dispute {
                id: get(row, "id")?,
                order_id: get(row, "order_id")?,
                requester_id: get(row, "requester_id")?,
                provider_id: get(row, "provider_id")?,
                kind: symbolon_core::state::DisputeKind::parse(&kind)
                    .ok_or_else(|| StoreError::corrupt(format!("dispute kind {kind}")))?,
                reason: get(row, "reason")?,
                status: symbolon_core::state::DisputeStatus::parse(&status)
                    .ok_or_else(|| StoreError::corrupt(format!("dispute status {status}")))?,
                resolution: get(row, "resolution")?,
                refund_minor: get(row, "refund_minor")?,
                resolved_by: get(row, "resolved_by")?,
                created_at: ts(row, "created_at")?,
                resolved_at: opt_ts(row, "resolved_at")?,
                seq: get(row, "seq")?,
            })
        }

        pub fn dispute_message_from(row: &$row) -> StoreResult<DisputeMessage> {
            Ok(DisputeMessage {
                id: get(row, "id")?,
                dispute_id: get(row, "dispute_id")?,
                author_id: get(row, "author_id")?,
                role: get(row, "role")?,
                body: get(row, "body")?,
                created_at: ts(row, "created_at")?,
            })
        }

        pub fn unit_transfer_from(row: &$row) -> StoreResult<UnitTransfer> {
            Ok(UnitTransfer {
                id: get(row, "id")?,
                pass_id: get(row, "pass_id")?,
                unit_no: get(row, "unit_no")?,
                seq: get(row, "seq")?,
                from_id: get(row, "from_id")?,
                to_id: get(row, "to_id")?,
                jws: get(row, "jws")?,
                created_at: ts(row, "created_at")?,
            })
        }

        pub fn requester_profile_from(row: &$row) -> StoreResult<RequesterProfile> {
            let ship_to: Option<String> = get(row, "ship_to")?;
            let pm: Option<String> = get(row, "payment_method")?;
            Ok(RequesterProfile {
                account_id: get(row, "account_id")?,
                ship_to: ship_to.map(|s| json(&s, "ship_to")).transpose()?,
                payment_method: pm.map(|s| json(&s, "payment_method")).transpose()?,
                updated_at: ts(row, "updated_at")?,
            })
        }
    };
}
