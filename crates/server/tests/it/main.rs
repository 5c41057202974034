//! Integration tests of the server, over real HTTP with the client crate,
//! against a temp-dir SQLite database. One binary for all of them.

mod access;
mod accounts;
mod after_sale;
mod architecture;
mod at_rest;
mod attacks;
mod browser;
mod chromium;
mod concurrency;
mod connections;
mod errors;
mod events;
mod harness;
mod idempotency;
mod interop;
mod isolation;
mod manage;
mod matching;
mod notifications;
mod openapi;
mod passes;
mod passkeys;
mod restart;
mod sealed;
mod story;
mod transparency;
mod web;
mod web_browser;
mod web_consoles;
mod web_holder;
mod web_journey;
mod web_pages;
mod web_provider;
mod web_settings;
