//! Password checks on a bounded number of threads, with a bounded queue in front of them.
//!
//! One argon2id check takes 19 MiB and tens of milliseconds of one core. Left to the runtime's blocking pool
//! (up to 512 threads), a burst of sign-ins would take gigabytes and make every check slower; past what the
//! cores can do, waiting only adds latency. So at most `threads` checks run at once, at most `queue` more wait
//! their turn, and any further request is refused at once (503 with `Retry-After`): memory stays bounded and
//! the requests that are admitted finish in bounded time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// More requests for a password check than the threads and the queue can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded;

#[derive(Debug)]
pub struct PasswordChecks {
    running: Arc<Semaphore>,
    /// Checks running plus checks waiting; never above `limit`.
    admitted: AtomicUsize,
    limit: usize,
}

/// Gives the admission back however the check ends, also when the request that waits for it is dropped.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordChecks {
    /// `threads` checks at once (at least one), and `queue` more waiting.
    pub fn new(threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        Self { running: Arc::new(Semaphore::new(threads)), admitted: AtomicUsize::new(0), limit: threads + queue }
    }

    /// One thread per core, as the machine reports it.
    pub fn per_core(queue: usize) -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, usize::from), queue)
    }

    /// Runs `check` on a blocking thread once one of the `threads` is free, or refuses it at once when the
    /// queue is full.
    pub async fn run<T: Send + 'static>(&self, check: impl FnOnce() -> T + Send + 'static) -> Result<T, Overloaded> {
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _admission = Admission(&self.admitted);
        if admitted >= self.limit {
            return Err(Overloaded);
        }
        // The semaphore is never closed, so acquiring fails only if it were.
        let permit = self.running.clone().acquire_owned().await.map_err(|_| Overloaded)?;
        let outcome = tokio::task::spawn_blocking(move || {
            // Held on the thread: a check whose request was dropped still counts until it has finished.
            let _permit = permit;
            check()
        })
        .await;
        // A check that panicked is a check that did not pass; the callers treat `Err` as "no answer".
        outcome.map_err(|_| Overloaded)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn beyond_the_threads_and_the_queue_a_check_is_refused_at_once() {
        let checks = Arc::new(PasswordChecks::new(1, 1));
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Arc::new(std::sync::Mutex::new(blocked));
        let first = {
            let (checks, blocked) = (checks.clone(), blocked.clone());
            tokio::spawn(async move { checks.run(move || blocked.lock().unwrap().recv().is_ok()).await })
        };
        // The first check holds the only thread; the second waits in the queue.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = {
            let checks = checks.clone();
            tokio::spawn(async move { checks.run(|| 2).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(checks.run(|| 3).await, Err(Overloaded), "a third is over the limit");
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(true));
        assert_eq!(second.await.unwrap(), Ok(2));
        // Everything admitted has been given back.
        assert_eq!(checks.run(|| 4).await, Ok(4));
        assert_eq!(checks.admitted.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiter_whose_request_is_dropped_gives_its_place_back() {
        let checks = Arc::new(PasswordChecks::new(1, 1));
        let (release, blocked) = mpsc::channel::<()>();
        let running = {
            let checks = checks.clone();
            tokio::spawn(async move { checks.run(move || blocked.recv().is_ok()).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        // A request that gives up while it waits in the queue (its client went away).
        let gave_up = tokio::time::timeout(Duration::from_millis(50), checks.run(|| 1)).await;
        assert!(gave_up.is_err(), "it was still waiting for the thread");
        // Its place in the queue is free again.
        let next = {
            let checks = checks.clone();
            tokio::spawn(async move { checks.run(|| 2).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(checks.run(|| 3).await, Err(Overloaded), "the thread and the one place are taken");
        release.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(true));
        assert_eq!(next.await.unwrap(), Ok(2));
        assert_eq!(checks.admitted.load(Ordering::Acquire), 0);
    }
}
