//! The functional core: pure decisions, no I/O, no clock reads. Time comes in as an
//! argument; what to do goes out as data for the shell to carry out.

pub mod domain;
pub mod parse;
pub mod present;
pub mod rules;
pub mod schedule;
pub mod token;
pub mod workflow;
