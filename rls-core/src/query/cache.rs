//! SQL text that depends only on the table, built once per table and kind of statement and
//! kept for the life of the process (a few short strings per table).

use crate::TableDef;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

type Key = (usize, &'static str);

pub fn statement(
    table: &'static TableDef,
    kind: &'static str,
    build: impl FnOnce() -> String,
) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<Key, &'static str>>> = OnceLock::new();
    let key = (std::ptr::from_ref(table) as usize, kind);
    let cache = CACHE.get_or_init(Default::default);
    if let Some(sql) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return sql;
    }
    let sql: &'static str = Box::leak(build().into_boxed_str());
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_insert(sql)
}
