//! Widget settings: how often visitors' browsers may call and poll.

use super::setting::{Section, Setting};

/// The widget settings.
pub const SECTION: Section = Section {
    title: "Widget",
    settings: &[
        Setting::limit(
            "WIDGET_LIMIT_PER_SESSION",
            "30/60",
            "widget messages allowed per visitor session and window",
        ),
        Setting::limit(
            "WIDGET_LIMIT_PER_IP",
            "300/60",
            "widget calls (sessions and messages) allowed per client IP and window",
        ),
        Setting::limit(
            "WIDGET_POLL_LIMIT_PER_SESSION",
            "120/60",
            "widget polls (`GET /api/widget/messages`) per visitor session",
        ),
        Setting::limit(
            "WIDGET_POLL_LIMIT_PER_IP",
            "1200/60",
            "widget polls per client IP, whatever their sessions",
        ),
    ],
};
