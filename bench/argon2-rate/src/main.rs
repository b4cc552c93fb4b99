//! Measures argon2id password checks per second on every core, exactly as the provider checks a password
//! (`portcullis_core::password::verify`: `Argon2::default()`, i.e. m=19456 KiB, t=2, p=1), and prints one JSON
//! line.
//!
//! Usage: argon2-rate [SECONDS] [THREADS]   (defaults: 3 seconds, one thread per core)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};

const PASSWORD: &str = "Demo-Passw0rd!";

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(cores);

    let Ok(phc) = Argon2::default().hash_password(PASSWORD.as_bytes()).map(|hash| hash.to_string()) else {
        eprintln!("argon2-rate: hashing failed");
        std::process::exit(1);
    };
    let params = phc.split('$').nth(3).unwrap_or_default().to_string();

    let done = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (done, count, phc) = (done.clone(), count.clone(), phc.clone());
            std::thread::spawn(move || {
                let Ok(parsed) = PasswordHash::new(&phc) else { return };
                while !done.load(Ordering::Relaxed) {
                    if Argon2::default().verify_password(PASSWORD.as_bytes(), &parsed).is_ok() {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        let _ = worker.join();
    }
    // Checks finished after the deadline count, and so does the time they took.
    let elapsed = start.elapsed().as_secs_f64();
    let checks = count.load(Ordering::Relaxed);
    println!(
        "{{\"checks\": {checks}, \"seconds\": {elapsed:.3}, \"per_second\": {:.2}, \"threads\": {threads}, \
         \"params\": \"{params}\", \"argon2\": \"0.6.0\"}}",
        checks as f64 / elapsed
    );
}
