//! Lead settings: how imports and AI analyses of leads are picked up, shared and retried.

use super::setting::{Section, Setting};

/// The lead settings.
pub const SECTION: Section = Section {
    title: "Leads",
    settings: &[
        Setting::flag(
            "LEAD_ANALYSIS",
            "true",
            "analyse imported leads with the AI provider",
        ),
        Setting::number(
            "LEAD_ANALYSIS_CONCURRENCY",
            "4",
            1..=64,
            "lead analyses in flight at once, per process",
        ),
        Setting::number(
            "LEAD_ANALYSIS_ATTEMPTS",
            "3",
            1..=20,
            "analyses of one lead before it is left unanalysed with the reason",
        ),
        Setting::number(
            "LEAD_ANALYSIS_RETRY_MS",
            "60000",
            20..=86_400_000,
            "wait after a failed analysis, doubling each time",
        ),
        Setting::number(
            "LEAD_SWEEP_MS",
            "1000",
            20..=3_600_000,
            "how often imports and analyses waiting for work are looked for",
        ),
        Setting::number(
            "LEAD_LEASE_MS",
            "120000",
            200..=3_600_000,
            "how long an import or analysis a process took is its own (after a crash, another \
             continues it then)",
        ),
    ],
};
