//! Any file given to an Import button (Config Manager's Device Info, Room
//! No. Management's User Info, the IPC list): parsing never panics, and
//! what parses is read back the same after the device writes it out again
//! (an export of an import imports as the same thing).
#![no_main]

use app::model::{config, ipc, user_info};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(info) = user_info::parse(text) {
        let again = serde_json::to_string(&info).expect("a parsed User Info serializes");
        assert_eq!(user_info::parse(&again).ok(), Some(info));
    }
    if let Ok(info) = config::parse(text) {
        let again = serde_json::to_string(&info).expect("a parsed Device Info serializes");
        assert_eq!(config::parse(&again).ok(), Some(info));
    }
    if let Ok(ipcs) = ipc::IpcExport::parse(text) {
        let again = serde_json::to_string(&ipc::IpcExport::new(ipcs.clone()))
            .expect("a parsed IPC list serializes");
        assert_eq!(ipc::IpcExport::parse(&again).ok(), Some(ipcs));
    }
});
