//! Subjects and addresses as attackers write them: the reference, the token and the
//! address readers never panic, and what they accept round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod guard;
use loket::core::domain::{Address, Reference};
use loket::core::token::Token;

fuzz_target!(|data: &[u8]| {
    guard::install();
    let text = String::from_utf8_lossy(data);
    if let Some(r) = Reference::find_in(&text) {
        assert_eq!(r.to_string().parse::<Reference>().ok(), Some(r));
    }
    for t in Token::find_all(&text) {
        assert!(t.matches(&t.hash()));
        assert_eq!(Token::find_all(&t.reveal()).len(), 1);
    }
    if let Ok(a) = Address::parse(&text) {
        assert_eq!(Address::parse(a.as_str()).ok(), Some(a.clone()));
        assert!(!a.as_str().contains(['\r', '\n', ' ']));
    }
});
