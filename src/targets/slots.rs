//! The `--jobs` limit of a run on a target: slots that scenarios hold while
//! they work and give back while they wait on a real clock.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;

/// The `--jobs` limit of a run. A scenario holds a [`JobSlot`] while it works
/// and gives it back while it waits on a real clock (the next TOTP window, a
/// `wait:` step), so waiting scenarios never hold up the others: 50 scenarios
/// that wait take about as long as the longest one.
#[derive(Debug)]
pub struct JobSlots {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    most_waiting: AtomicUsize,
}

impl JobSlots {
    /// `jobs` slots (at least one).
    pub fn new(jobs: usize) -> Arc<JobSlots> {
        Arc::new(JobSlots {
            permits: Arc::new(Semaphore::new(jobs.max(1))),
            waiting: AtomicUsize::new(0),
            most_waiting: AtomicUsize::new(0),
        })
    }

    /// Waits for a free slot.
    pub async fn acquire(self: &Arc<Self>) -> JobSlot {
        let permit = self.permits.clone().acquire_owned().await.ok();
        JobSlot {
            slots: Some(self.clone()),
            permit: Mutex::new(permit),
        }
    }

    /// Slots free now.
    pub fn free(&self) -> usize {
        self.permits.available_permits()
    }

    /// The most scenarios that waited (without a slot) at the same time.
    pub fn most_waiting(&self) -> usize {
        self.most_waiting.load(Ordering::SeqCst)
    }
}

/// One scenario's claim on a [`JobSlots`] slot (the default: no limit at all).
#[derive(Debug, Default)]
pub struct JobSlot {
    slots: Option<Arc<JobSlots>>,
    permit: Mutex<Option<OwnedSemaphorePermit>>,
}

impl JobSlot {
    /// Waits `d` on `clock`: a virtual clock just moves; on a real one the
    /// slot is given back for the wait (shown on a terminal, see
    /// [`term::show_wait`](crate::term::show_wait)), then taken again.
    pub async fn wait(&self, clock: &Clock, d: Duration, what: &str) {
        if clock.is_virtual() || d.is_zero() {
            clock.wait(d).await;
            return;
        }
        let _shown = crate::term::show_wait(what, d);
        self.released_while(clock.wait(d)).await;
    }

    /// Runs `work` without holding the slot, then takes a slot again.
    pub async fn released_while<F: Future>(&self, work: F) -> F::Output {
        let Some(slots) = &self.slots else {
            return work.await;
        };
        drop(self.permit.lock().unwrap_or_else(|e| e.into_inner()).take());
        let now = slots.waiting.fetch_add(1, Ordering::SeqCst) + 1;
        slots.most_waiting.fetch_max(now, Ordering::SeqCst);
        let out = work.await;
        slots.waiting.fetch_sub(1, Ordering::SeqCst);
        let permit = slots.permits.clone().acquire_owned().await.ok();
        *self.permit.lock().unwrap_or_else(|e| e.into_inner()) = permit;
        out
    }
}
