//! The time source shared by the runner and the stub.
//!
//! Against real targets time is the system clock and waiting means sleeping.
//! The stub runs on a *virtual* clock that only moves when the runner moves
//! it, so "wait for the next TOTP window" or "let the session expire" cost
//! nothing and runs are repeatable.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A cheaply clonable handle on a real or virtual clock.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Inner>);

#[derive(Debug)]
enum Inner {
    Real,
    /// Milliseconds since the Unix epoch.
    Virtual(Mutex<u64>),
}

impl Clock {
    /// The system clock.
    pub fn real() -> Self {
        Clock(Arc::new(Inner::Real))
    }

    /// A virtual clock starting at the current system time.
    pub fn virtual_now() -> Self {
        Self::virtual_at_millis(system_millis())
    }

    /// A virtual clock starting at `millis` since the Unix epoch.
    pub fn virtual_at_millis(millis: u64) -> Self {
        Clock(Arc::new(Inner::Virtual(Mutex::new(millis))))
    }

    /// Whether this clock is virtual (moves only when advanced).
    pub fn is_virtual(&self) -> bool {
        matches!(*self.0, Inner::Virtual(_))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_millis(&self) -> u64 {
        match &*self.0 {
            Inner::Real => system_millis(),
            Inner::Virtual(m) => *m.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Whole seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }

    /// Seconds since the Unix epoch with millisecond precision, as Cognito
    /// writes timestamps on the wire (`1689885426.107`).
    pub fn now_epoch_f64(&self) -> f64 {
        self.now_millis() as f64 / 1000.0
    }

    /// Moves a virtual clock forward; a real clock cannot be moved and is left alone.
    pub fn advance(&self, by: Duration) {
        if let Inner::Virtual(m) = &*self.0 {
            let mut now = m.lock().unwrap_or_else(|e| e.into_inner());
            *now = now.saturating_add(by.as_millis() as u64);
        }
    }

    /// Waits until `target_secs` (Unix seconds): advances a virtual clock
    /// instantly, or sleeps (asynchronously, never blocking a thread) on a real one.
    pub async fn wait_until_secs(&self, target_secs: u64) {
        self.wait(self.until_secs(target_secs)).await;
    }

    /// How long until `target_secs` (Unix seconds); zero when it has passed.
    pub fn until_secs(&self, target_secs: u64) -> Duration {
        Duration::from_millis(
            target_secs
                .saturating_mul(1000)
                .saturating_sub(self.now_millis()),
        )
    }

    /// Waits for `d`: instantly on a virtual clock, by sleeping on a real one.
    pub async fn wait(&self, d: Duration) {
        match &*self.0 {
            Inner::Real => tokio::time::sleep(d).await,
            Inner::Virtual(_) => self.advance(d),
        }
    }
}

fn system_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn virtual_clock_moves_only_when_told() {
        let c = Clock::virtual_at_millis(1_000_000);
        assert_eq!(c.now_secs(), 1000);
        c.wait_until_secs(1030).await;
        assert_eq!(c.now_secs(), 1030);
        c.wait_until_secs(10).await; // in the past: no-op
        assert_eq!(c.now_secs(), 1030);
        c.advance(Duration::from_millis(1500));
        assert_eq!(c.now_millis(), 1_031_500);
    }

    #[test]
    fn real_clock_is_not_moved() {
        let c = Clock::real();
        let before = c.now_secs();
        c.advance(Duration::from_secs(3600));
        assert!(c.now_secs() < before + 60);
    }
}
