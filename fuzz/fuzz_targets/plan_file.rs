//! The saved-plan reader on arbitrary text; a plan it accepts is rendered in every format.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = orgform_plan::Plan::from_json(text) {
        let _ = orgform_plan::render::text(&plan, false);
        let _ = orgform_plan::render::markdown(&plan);
        let _ = orgform_plan::render::json(&plan);
    }
});
