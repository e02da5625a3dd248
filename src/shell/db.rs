//! The store from async code: one connection, used on tokio's blocking threads so a slow
//! disk never stalls the tasks reading mail or talking SMTP.

use crate::shell::store::Store;
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Db(Arc<Mutex<Store>>);

impl Db {
    pub fn new(store: Store) -> Db {
        Db(Arc::new(Mutex::new(store)))
    }

    /// Runs `f` with the store on a blocking thread.
    pub async fn call<T: Send + 'static>(&self, f: impl FnOnce(&mut Store) -> T + Send + 'static) -> T {
        let db = self.0.clone();
        let job = tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the store's transactions roll back
            // on drop, so its data is consistent and the lock can be taken again.
            let mut store = db.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut store)
        });
        match job.await {
            Ok(t) => t,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
}
