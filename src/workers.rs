//! Everything that reacts to committed events or runs on a timer, started from one list.

pub mod assign;
pub mod hooks;
pub mod lead_analysis;
pub mod lead_import;
pub mod media;
pub mod outbound;
pub mod profiles;
pub mod relay;
pub mod responder;

use std::sync::Arc;

use crate::app::AppState;

/// Starts every worker of this process: the relay's listener and the presence heartbeat when
/// there are several processes, then delivery, assignment, the AI responder, outgoing
/// webhooks, profile lookups (when on), lead imports, keeping inbound attachments and lead
/// analysis (when on).
pub fn spawn_all(state: &AppState) -> anyhow::Result<()> {
    if let Some(relay) = state.relay.clone() {
        relay::spawn(state.clone(), relay);
        Arc::clone(&state.presence).spawn_heartbeat();
    }
    outbound::spawn(state.clone());
    assign::spawn(state.clone());
    responder::spawn(state.clone())?;
    hooks::spawn(state.clone())?;
    if state.config.profile_lookups {
        profiles::spawn(state.clone());
    }
    lead_import::spawn(state.clone());
    media::spawn(state.clone())?;
    if state.config.lead_analysis {
        lead_analysis::spawn(state.clone());
    }
    Ok(())
}
