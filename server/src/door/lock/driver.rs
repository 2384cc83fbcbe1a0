//! What the lock controller drives and reads: a relay output, a door
//! sensor and an exit button. [`SimDriver`] (the default) keeps them in
//! memory for the UI to show and work; a real board uses GPIO lines.

use std::sync::{Arc, Mutex};

/// What the hardware reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// The door sensor: open or closed.
    Door(bool),
    ExitButton,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DriverError(pub String);

pub trait LockDriver: Send + 'static {
    /// Energizes or releases the relay.
    fn set_relay(&mut self, energized: bool) -> Result<(), DriverError>;
    /// Whether the door sensor reads open now (at start).
    fn door_open(&mut self) -> Result<bool, DriverError>;
    /// The simulator behind this driver, if it is one.
    fn simulator(&self) -> Option<Simulator> {
        None
    }
}

/// The simulated door: its relay as the controller drives it, and the
/// door as the simulator's controls leave it.
#[derive(Clone, Debug, Default)]
pub struct Simulator(Arc<Mutex<SimState>>);

#[derive(Clone, Debug, Default)]
pub struct SimState {
    pub relay_energized: bool,
    pub door_open: bool,
    /// Every relay change (newest last, at most [`SIM_HISTORY`]), for tests
    /// to check what the lock output did and when.
    pub relay_history: Vec<(tokio::time::Instant, bool)>,
}

pub const SIM_HISTORY: usize = 64;

impl Simulator {
    #[cfg(test)]
    pub fn state(&self) -> SimState {
        self.lock().clone()
    }

    /// The door as someone at the door moved it.
    pub fn set_door(&self, open: bool) {
        self.lock().door_open = open;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        // The state stays consistent even if a holder panicked.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Default)]
pub struct SimDriver {
    sim: Simulator,
}

impl SimDriver {
    #[cfg(test)]
    pub fn new(sim: Simulator) -> Self {
        Self { sim }
    }
}

impl LockDriver for SimDriver {
    fn set_relay(&mut self, energized: bool) -> Result<(), DriverError> {
        let mut s = self.sim.lock();
        if s.relay_energized != energized || s.relay_history.is_empty() {
            s.relay_energized = energized;
            if s.relay_history.len() == SIM_HISTORY {
                s.relay_history.remove(0);
            }
            s.relay_history.push((crate::clock::monotonic(), energized));
        }
        Ok(())
    }

    fn door_open(&mut self) -> Result<bool, DriverError> {
        Ok(self.sim.lock().door_open)
    }

    fn simulator(&self) -> Option<Simulator> {
        Some(self.sim.clone())
    }
}
