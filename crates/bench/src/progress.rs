//! Progress bars on stderr for the long steps; hidden with `--json`.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// Makes progress bars, or hidden ones.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub show: bool,
}

impl Progress {
    pub fn hidden() -> Self {
        Self { show: false }
    }

    /// A bar over `len` steps.
    pub fn bar(&self, len: u64, msg: &str) -> ProgressBar {
        if !self.show {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new(len);
        pb.set_style(
            ProgressStyle::with_template(
                "{msg:<34} [{bar:32}] {human_pos:>9}/{human_len:<9} {elapsed_precise} (eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb.set_message(msg.to_string());
        pb
    }

    /// A spinner for a step of unknown length.
    pub fn spinner(&self, msg: &str) -> ProgressBar {
        if !self.show {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(200));
        pb
    }
}
