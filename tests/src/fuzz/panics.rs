//! Panics as values: a quiet panic hook keeps the message, location and backtrace of a panic
//! caught by [`no_panic`] (thousands of mutants would otherwise flood stderr), and leaves every
//! other panic to the default hook.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
    static CATCHING: RefCell<bool> = const { RefCell::new(false) };
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING.with(|f| *f.borrow()) {
                default(info);
                return;
            }
            let loc = info.location().map(|l| l.to_string()).unwrap_or_default();
            let msg = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let bt = std::backtrace::Backtrace::force_capture();
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("panicked at {loc}: {msg}\n{bt}")));
        }));
    });
}

/// Runs `f`, turning a panic into `Err(message, location and backtrace)`.
pub fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let was = CATCHING.with(|x| x.replace(true));
    let r = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|x| *x.borrow_mut() = was);
    r.map_err(|_| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| "panic (no message)".into()))
}
