//! The SSE parser under arbitrary bytes cut at arbitrary places: it must never panic, and the events (or the
//! error) must not depend on where the stream was cut, since upstream chunk boundaries are the network's choice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_gateway::stream::{SseError, SseEvent, SseParser};

/// A small limit so the fuzzer also reaches the too-large paths.
const MAX_EVENT: usize = 256;

fn parse(chunks: &[&[u8]]) -> (Vec<SseEvent>, Option<SseError>) {
    let mut parser = SseParser::new(MAX_EVENT);
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(e) = parser.push(chunk, &mut out) {
            return (out, Some(e));
        }
    }
    let err = parser.finish(&mut out).err();
    (out, err)
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, stream)) = data.split_first() else {
        return;
    };
    let whole = parse(&[stream]);
    let step = usize::from(step % 17) + 1;
    let pieces: Vec<&[u8]> = stream.chunks(step).collect();
    let split = parse(&pieces);
    assert_eq!(whole, split, "events depend on chunking (step {step})");
    for event in &whole.0 {
        assert!(event.data.len() <= MAX_EVENT);
    }
});
