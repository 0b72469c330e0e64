#![no_main]

use libfuzzer_sys::fuzz_target;
use netsim_tests::fuzz::Target;

fuzz_target!(|data: &[u8]| Target::Http.run(data));
