//! Building blocks shared by the pages.

pub mod answer;
pub mod config_manager;
pub mod dialog;
pub mod door;
pub mod form;
pub mod hydration;
pub mod icons;
pub mod intercom;
pub mod layout;
pub mod live_view;
pub mod log_table;
pub mod notice;
pub mod pager;
pub mod role;
pub mod two_factor;
#[cfg(feature = "hydrate")]
pub mod webrtc;
