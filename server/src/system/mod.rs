//! System and time (manual ch. 4.1, 4.2 and the main page): the device's
//! clock and its settings in force ([`time`]: NTP, auto maintenance),
//! start, stop and reboot ([`lifecycle`]), the service manager's
//! notifications and watchdog ([`notify`]), the allocator's handling of
//! large blocks ([`memory`]), and [`service`], the area as every front
//! door sees it.

pub mod backup;
pub mod lifecycle;
pub mod maintenance;
pub mod memory;
pub mod notify;
pub mod ntp;
pub mod service;
pub mod time;
