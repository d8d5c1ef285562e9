//! Structure-aware definitions: `arbitrary` builds a machine (states of every type,
//! Retry/Catch, nested Parallel/Map blocks, templates, Choice rules, paths and
//! intrinsics from a vocabulary that refers to the input) so most inputs validate and
//! the interpreter, not the parser, gets the coverage. A machine that validates runs a
//! bounded number of steps; the rest of the input steers the run.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(machine) = hitl_fuzz::Machine::arbitrary(&mut u) else {
        return;
    };
    let (def, input) = machine.to_json();
    if let Ok(def) = asl_engine::Definition::parse(&def) {
        hitl_fuzz::run_execution(&def, input, &mut u);
    }
});
