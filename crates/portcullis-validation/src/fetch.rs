//! A document fetched from the provider when first needed and then kept: the discovery metadata, the JWKS.
//!
//! Fetching is lazy so that an API starts while its provider is down, and answers 503 until the provider is
//! back. One caller fetches at a time; after a failure, callers within the retry interval get the same
//! failure at once instead of queueing behind another slow attempt each.

use std::future::Future;
use std::sync::Arc;

use arc_swap::ArcSwapOption;
use portcullis_core::Clock;
use time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

use crate::Rejection;

pub(crate) struct Fetched<T> {
    current: ArcSwapOption<T>,
    last: Mutex<LastAttempt>,
}

#[derive(Default)]
struct LastAttempt {
    at: Option<OffsetDateTime>,
    failure: Option<Rejection>,
}

impl<T> Fetched<T> {
    pub fn new() -> Self {
        Self { current: ArcSwapOption::empty(), last: Mutex::new(LastAttempt::default()) }
    }

    /// The document held, fetching it first if there is none and the last failure is older than `retry_after`.
    pub async fn get<F, Fut>(&self, clock: &dyn Clock, retry_after: Duration, fetch: F) -> Result<Arc<T>, Rejection>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Rejection>>,
    {
        if let Some(current) = self.current.load_full() {
            return Ok(current);
        }
        let mut last = self.last.lock().await;
        // Another caller may have fetched it while this one waited for the lock.
        if let Some(current) = self.current.load_full() {
            return Ok(current);
        }
        let now = clock.now();
        if let (Some(at), Some(failure)) = (last.at, &last.failure)
            && now < at + retry_after
        {
            return Err(failure.clone());
        }
        self.attempt(&mut last, now, fetch).await
    }

    /// Fetches a newer document than `seen`, unless one was attempted less than `min_interval` ago (then
    /// `Ok(None)`: the caller goes on with what it has). A document fetched by another caller since `seen` is
    /// returned without fetching again.
    pub async fn refresh<F, Fut>(
        &self,
        clock: &dyn Clock,
        seen: &Arc<T>,
        min_interval: Duration,
        fetch: F,
    ) -> Result<Option<Arc<T>>, Rejection>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Rejection>>,
    {
        let mut last = self.last.lock().await;
        if let Some(current) = self.current.load_full()
            && !Arc::ptr_eq(&current, seen)
        {
            return Ok(Some(current));
        }
        let now = clock.now();
        if last.at.is_some_and(|at| now < at + min_interval) {
            return Ok(None);
        }
        self.attempt(&mut last, now, fetch).await.map(Some)
    }

    async fn attempt<F, Fut>(&self, last: &mut LastAttempt, now: OffsetDateTime, fetch: F) -> Result<Arc<T>, Rejection>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, Rejection>>,
    {
        last.at = Some(now);
        match fetch().await {
            Ok(value) => {
                let value = Arc::new(value);
                self.current.store(Some(value.clone()));
                last.failure = None;
                Ok(value)
            }
            Err(failure) => {
                last.failure = Some(failure.clone());
                Err(failure)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use portcullis_core::FixedClock;
    use time::macros::datetime;

    use super::*;

    #[tokio::test]
    async fn a_failure_is_repeated_without_fetching_until_the_retry_interval_passed() {
        let clock = FixedClock::new(datetime!(2026-11-01 12:00 UTC));
        let fetched: Fetched<u32> = Fetched::new();
        let calls = AtomicUsize::new(0);
        let down = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(Rejection::Unavailable("down".into()))
        };
        let up = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(7)
        };
        let retry = Duration::seconds(2);
        assert!(fetched.get(&clock, retry, down).await.is_err());
        assert!(fetched.get(&clock, retry, up).await.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.advance(retry);
        assert_eq!(*fetched.get(&clock, retry, up).await.unwrap(), 7);
        assert_eq!(*fetched.get(&clock, retry, down).await.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn refreshes_are_rate_limited() {
        let clock = FixedClock::new(datetime!(2026-11-01 12:00 UTC));
        let fetched: Fetched<u32> = Fetched::new();
        let interval = Duration::seconds(30);
        let first = fetched.get(&clock, interval, || async { Ok(1) }).await.unwrap();
        assert_eq!(fetched.refresh(&clock, &first, interval, || async { Ok(2) }).await.unwrap(), None);
        clock.advance(interval);
        let second = fetched.refresh(&clock, &first, interval, || async { Ok(2) }).await.unwrap().unwrap();
        assert_eq!(*second, 2);
        // A caller still holding the first document gets the second without another fetch.
        let again = fetched.refresh(&clock, &first, interval, || async { Ok(3) }).await.unwrap().unwrap();
        assert_eq!(*again, 2);
    }
}
