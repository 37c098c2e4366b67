//! The loopback redirect catcher and the paste fallback: requests are lines of the input;
//! at most one is accepted, and only one whose query holds the exact state, once.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postern_core::fuzzing;

const STATE: &str = "c3RhdGUtZm9yLWZ1enppbmc";

fn exact_state_once(query: &str) -> bool {
    let states: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .collect();
    states.len() == 1 && states[0] == STATE
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.split('\n').collect();

    let got = fuzzing::redirect_queries(STATE, &lines);
    assert!(got.accepted.iter().filter(|a| **a).count() <= 1);
    for (line, accepted) in lines.iter().zip(&got.accepted) {
        assert!(!accepted || exact_state_once(line), "accepted {line:?}");
    }

    let got = fuzzing::pasted_addresses(STATE, &lines);
    assert!(got.accepted.iter().filter(|a| **a).count() <= 1);
    for (line, accepted) in lines.iter().zip(&got.accepted) {
        if *accepted {
            let url = url::Url::parse(line.trim()).expect("an accepted paste is an address");
            assert!(
                exact_state_once(url.query().unwrap_or_default()),
                "accepted {line:?}"
            );
        }
    }
});
