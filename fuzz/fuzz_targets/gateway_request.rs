//! The gateway's request and response views over arbitrary bodies: every endpoint's parser must answer Ok or
//! a field-naming error, never panic or overflow the stack, whatever JSON (or non-JSON) a client sends; and a
//! body read as an upstream response must give a view and usage figures without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_gateway::api::{Endpoint, parse_request, response_view, usage};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let endpoint = match selector % 4 {
        0 => Endpoint::ChatCompletions,
        1 => Endpoint::Completions,
        2 => Endpoint::Embeddings,
        _ => Endpoint::Messages,
    };
    let max_messages = usize::from(selector / 4) + 1;
    match parse_request(endpoint, body, max_messages) {
        Ok((value, view)) => {
            assert!(view.messages <= max_messages);
            let _ = response_view(endpoint, &value);
            let _ = usage(&value);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        let _ = response_view(endpoint, &value);
        let _ = usage(&value);
    }
});
