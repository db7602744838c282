//! Any bytes from a socket: decoding must never panic, and whatever decodes must encode and
//! decode back to the same frame (so the server never sends what the widget cannot read).
#![no_main]

use kefu_core::protocol;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(frame) = protocol::decode_customer_frame(text) {
        let encoded = protocol::encode_customer_frame(&frame);
        assert_eq!(protocol::decode_customer_frame(&encoded), Ok(frame));
    }
    if let Ok(frame) = protocol::decode_agent_frame(text) {
        let encoded = protocol::encode_agent_frame(&frame);
        assert_eq!(protocol::decode_agent_frame(&encoded), Ok(frame));
    }
    if let Ok(frame) = protocol::decode_server_frame(text) {
        let encoded = protocol::encode(&frame);
        // The server's frames are not limit-checked on decode, only on size: a frame that
        // decoded re-encodes to the same JSON value.
        assert_eq!(protocol::decode_server_frame(&encoded).ok(), Some(frame));
    }
});
