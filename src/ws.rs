//! The agents' event stream (`/ws`): hello, resume from `since`, then live events, filtered by
//! the policy; one task owns each connection and writes through the connection's own bounded
//! queue, and a client that cannot keep up is told to resync and closed.

mod frames;
pub mod widget;

use frames::ServerFrame;

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{Message as Frame, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use crate::app::AppState;
use crate::auth::extract::CurrentUser;
use crate::model::Event;
use crate::store::events;
use crate::users::UserView;

/// Events replayed on resume before the client is asked to resync instead.
const MAX_REPLAY: i64 = 50_000;
/// How often the server pings; a client silent for two intervals is dropped.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Slots kept free in each queue for the last two frames (`resync_required`, close).
const RESERVED: usize = 2;
/// Most frames taken in one go: events read from the bus before the connection looks at its
/// other inputs, and frames written before one flush.
const BATCH: usize = 256;

/// The event's frame; its bytes are shared with every other connection that sends it.
fn event_frame(event: &Event) -> Frame {
    Frame::Text(Utf8Bytes::try_from(event.frame()).unwrap_or_default())
}

/// One connection's outgoing side, owned by the connection's own task: a bounded queue of the
/// frames the socket has not taken yet, so a client that stops reading fills its own queue and
/// nobody else's. Whatever is queued goes out together: fed into the socket's write buffer one
/// after another and flushed once.
struct Outbox {
    sink: SplitSink<WebSocket, Frame>,
    queue: VecDeque<Frame>,
    capacity: usize,
    timeout: Duration,
    /// Frames fed to the socket since it last flushed.
    unflushed: bool,
    /// While frames wait: when the socket must have taken the next one.
    deadline: Option<Instant>,
}

impl Outbox {
    /// Splits the socket; every frame must go out within the configured send timeout.
    fn start(socket: WebSocket, state: &AppState) -> (Self, SplitStream<WebSocket>) {
        let (sink, stream) = socket.split();
        let out = Self {
            sink,
            queue: VecDeque::new(),
            capacity: state.config.ws_queue_frames + RESERVED,
            timeout: state.config.ws_send_timeout,
            unflushed: false,
            deadline: None,
        };
        (out, stream)
    }

    /// Queues a frame without waiting; false when the queue is full.
    fn push(&mut self, frame: Frame) -> bool {
        if self.queue.len() + RESERVED >= self.capacity {
            return false;
        }
        self.enqueue(frame);
        true
    }

    fn enqueue(&mut self, frame: Frame) {
        if self.deadline.is_none() {
            self.deadline = Some(Instant::now() + self.timeout);
        }
        self.queue.push_back(frame);
    }

    /// Queues a frame, first sending what is queued when there is no room (hello and replay,
    /// before live events flow); false when the client does not take it in time.
    async fn push_wait(&mut self, frame: Frame) -> bool {
        if self.queue.len() + RESERVED >= self.capacity && !self.send_all().await {
            return false;
        }
        self.enqueue(frame);
        true
    }

    /// Sends everything queued; false when the client does not take it in time.
    async fn send_all(&mut self) -> bool {
        let deadline = self
            .deadline
            .unwrap_or_else(|| Instant::now() + self.timeout);
        matches!(
            tokio::time::timeout_at(deadline, std::future::poll_fn(|cx| self.poll_send(cx))).await,
            Ok(Ok(()))
        )
    }

    /// Whether frames have waited longer than the send timeout for the client to take them.
    fn overdue(&self) -> bool {
        self.deadline.is_some_and(|at| Instant::now() >= at)
    }

    /// Whether frames wait to go out.
    fn busy(&self) -> bool {
        !self.queue.is_empty() || self.unflushed
    }

    /// Feeds queued frames to the socket while it takes them, then flushes; ready once
    /// everything is out. A turn feeds at most `BATCH` frames, so the connection's other
    /// inputs are not starved.
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), axum::Error>> {
        let mut fed = 0;
        while fed < BATCH && !self.queue.is_empty() {
            match self.sink.poll_ready_unpin(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => break,
            }
            if let Some(frame) = self.queue.pop_front() {
                if let Err(e) = self.sink.start_send_unpin(frame) {
                    return Poll::Ready(Err(e));
                }
                self.unflushed = true;
                fed += 1;
            }
        }
        if fed > 0 {
            // Progress: the next frame has a full timeout again.
            self.deadline = Some(Instant::now() + self.timeout);
        }
        if self.unflushed {
            match self.sink.poll_flush_unpin(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.queue.is_empty() {
            self.deadline = None;
            return Poll::Ready(Ok(()));
        }
        if fed == BATCH {
            // Not blocked, only taking turns: ask to be polled again.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// Ends the connection after what is queued, with `last` as the final frame and then the
    /// close; the rest goes out in the background, so the connection's task ends at once.
    fn finish(mut self, last: Option<Frame>) {
        if let Some(frame) = last {
            self.queue.push_back(frame);
        }
        self.queue.push_back(Frame::Close(None));
        tokio::spawn(async move {
            if !self.send_all().await {
                tracing::info!("a client stopped reading; dropping its connection");
            }
        });
    }
}

/// Waits until `deadline`, or forever when there is none (a connection's loop takes the
/// deadline at each turn; progress in between moves it, which `Outbox::overdue` tells).
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Serves one agent connection until it closes, falls behind, or its session ends.
pub async fn serve(socket: WebSocket, state: AppState, mut me: CurrentUser, since: Option<i64>) {
    let (out, mut incoming) = Outbox::start(socket, &state);
    // Subscribe before reading the database, so nothing falls between replay and live.
    let mut live = state.bus.subscribe_account(me.principal.account_id);
    let mut revoked = state.revocations.subscribe();
    let mut typing = state.bus.subscribe_typing();
    let mut presence = state.presence.subscribe();
    let account = me.principal.account_id;
    let Some((latest, mut out)) = greet(&state, &me, out, since).await else {
        return;
    };
    // An integration's stream (an API key) is not its creator being online: round robin and
    // the team's presence ignore it.
    let _online = me
        .principal
        .key
        .is_none()
        .then(|| Arc::clone(&state.presence).connect(account, me.principal.user_id));
    let mut sent_up_to = latest;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut silent_pings = 0u32;
    let resync = |seq: i64| Some(ServerFrame::Resync { seq }.text());
    let mut typing_budget = crate::ratelimit::Budget::new(state.config.typing_limit);
    loop {
        let deadline = out.deadline;
        tokio::select! {
            sent = std::future::poll_fn(|cx| out.poll_send(cx)), if out.busy() => {
                if sent.is_err() {
                    return;
                }
            }
            () = until(deadline), if out.busy() => {
                if out.overdue() {
                    tracing::info!(user_id = me.principal.user_id, "a client stopped reading; dropping its connection");
                    return;
                }
            }
            frame = incoming.next() => match frame {
                Some(Ok(Frame::Text(body))) => {
                    silent_pings = 0;
                    let message: serde_json::Value = serde_json::from_str(body.as_str()).unwrap_or_default();
                    if message["type"] == "ping" && !out.push(ServerFrame::Pong.text()) {
                        out.finish(resync(sent_up_to));
                        return;
                    }
                    // Typing is throttled per connection; what is over the budget is dropped.
                    // Only people type; an integration's stream only listens.
                    if message["type"] == "typing" && me.principal.key.is_none() && typing_budget.allow() {
                        Box::pin(relay_typing(&state, &me, &message)).await;
                    }
                }
                Some(Ok(Frame::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => silent_pings = 0,
            },
            event = live.recv() => {
                // Everything already waiting is handled in this turn: one wake-up, many events.
                let mut next = Some(event);
                let mut taken = 0;
                while let Some(event) = next.take() {
                    let event = match event {
                        Ok(event) => event,
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(user_id = me.principal.user_id, missed, "event stream fell behind; asking the client to resync");
                            out.finish(resync(sent_up_to));
                            return;
                        }
                        Err(RecvError::Closed) => return,
                    };
                    if event.account_id == account && event.seq > sent_up_to {
                        // A change of rights announced before this event was committed applies to it.
                        while let Ok(pending) = revoked.try_recv() {
                            if let Some(last) = Box::pin(apply_revocation(&state, &mut me, Ok(pending), sent_up_to)).await {
                                out.finish(last);
                                return;
                            }
                        }
                        if me.principal.may_see_event(&event) && !out.push(event_frame(&event)) {
                            tracing::warn!(user_id = me.principal.user_id, seq = event.seq, "client fell behind; asking it to resync");
                            out.finish(resync(sent_up_to));
                            return;
                        }
                        sent_up_to = event.seq;
                    }
                    taken += 1;
                    if taken < BATCH {
                        next = ready(&mut live);
                    }
                }
            }
            indicator = typing.recv() => {
                // Typing is best effort: a full queue drops it, the next event decides.
                if let Some(frame) = indicator.ok().and_then(|t| typing_frame(&me, &t)) {
                    out.push(frame.text());
                }
            }
            change = presence.recv() => {
                if let Ok(c) = change {
                    if let Some(frame) = presence_frame(&me, &c) {
                        out.push(frame.text());
                    }
                }
            }
            ended = revoked.recv() => {
                if let Some(last) = Box::pin(apply_revocation(&state, &mut me, ended, sent_up_to)).await {
                    out.finish(last);
                    return;
                }
            }
            _ = ping.tick() => {
                silent_pings += 1;
                if silent_pings > 2 || !out.push(Frame::Ping(Default::default())) {
                    out.finish(None);
                    return;
                }
                // The session may have ended (logout, deactivation) since the last check.
                if Box::pin(crate::auth::extract::session_user(&state, &me.principal)).await.is_none() {
                    out.finish(None);
                    return;
                }
            }
        }
    }
}

/// Tells the client where the stream stands (`hello`) and sends the events it missed since
/// `since`; the seq the live part goes on from, or `None` once the connection has ended (a
/// client too far behind is told to resync).
async fn greet(
    state: &AppState,
    me: &CurrentUser,
    mut out: Outbox,
    since: Option<i64>,
) -> Option<(i64, Outbox)> {
    let account = me.principal.account_id;
    // Boxed, like the other rare waits below: the connection's own state stays small.
    let replay = Box::pin(state.db().run(
        move |conn| -> crate::error::AppResult<(i64, Option<Vec<Event>>)> {
            let latest = events::latest_seq(conn, account)?;
            let Some(since) = since else {
                return Ok((latest, Some(Vec::new())));
            };
            let oldest = events::oldest_seq(conn, account)?.unwrap_or(latest + 1);
            if since < oldest - 1 || latest - since > MAX_REPLAY || since > latest {
                return Ok((latest, None));
            }
            Ok((latest, Some(events::range(conn, account, since, latest)?)))
        },
    ))
    .await;
    let Ok((latest, replay)) = replay else {
        out.finish(None);
        return None;
    };
    let hello = ServerFrame::Hello {
        seq: latest,
        user: UserView::from(me.user.clone()),
    };
    if !Box::pin(out.push_wait(hello.text())).await {
        return None;
    }
    let Some(replay) = replay else {
        out.finish(Some(ServerFrame::Resync { seq: latest }.text()));
        return None;
    };
    for event in replay.iter().filter(|e| me.principal.may_see_event(e)) {
        if !Box::pin(out.push_wait(event_frame(event))).await {
            return None;
        }
    }
    Some((latest, out))
}

/// The frame telling this agent someone types in a chat they follow; never their own typing.
fn typing_frame(me: &CurrentUser, t: &crate::model::Typing) -> Option<ServerFrame<'static>> {
    let follows = t.user_id != Some(me.principal.user_id)
        && me.principal.may_follow_chat(t.account_id, t.assignee_id);
    follows.then(|| ServerFrame::Typing {
        chat_id: t.chat_id,
        data: frames::Typing {
            user_id: t.user_id,
            contact_id: t.user_id.is_none().then_some(t.contact_id),
            on: t.on,
        },
        at: chrono::Utc::now(),
    })
}

/// The frame telling this agent a teammate's presence changed, when it is theirs to see.
fn presence_frame<'a>(
    me: &CurrentUser,
    c: &'a crate::presence::PresenceChange,
) -> Option<ServerFrame<'a>> {
    let shown =
        c.announce && c.user_id != me.principal.user_id && me.principal.sees_presence(c.account_id);
    shown.then(|| ServerFrame::Presence {
        data: frames::Presence {
            user_id: c.user_id,
            online: c.online,
            status: c.status.as_deref(),
        },
        at: chrono::Utc::now(),
    })
}

/// The next event already waiting, without waiting for one.
fn ready(live: &mut broadcast::Receiver<Arc<Event>>) -> Option<Result<Arc<Event>, RecvError>> {
    match live.try_recv() {
        Ok(event) => Some(Ok(event)),
        Err(TryRecvError::Empty) => None,
        Err(TryRecvError::Lagged(missed)) => Some(Err(RecvError::Lagged(missed))),
        Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
    }
}

/// Acts on an announcement about sessions or rights; `Some(last frame)` when the connection
/// must end.
async fn apply_revocation(
    state: &AppState,
    me: &mut CurrentUser,
    announced: Result<crate::model::Revoked, RecvError>,
    sent_up_to: i64,
) -> Option<Option<Frame>> {
    let affected = match announced {
        Ok(r) => r.ends(me.principal.user_id, &me.principal.session_id),
        Err(RecvError::Lagged(_)) => true,
        // The hub is shutting down.
        Err(RecvError::Closed) => return Some(None),
    };
    if !affected {
        return None;
    }
    match recheck(state, me).await {
        Recheck::Same => None,
        Recheck::Ended => Some(None),
        // Events this connection filtered out are now the user's to see: the client reloads.
        Recheck::SeesMore => Some(Some(ServerFrame::Resync { seq: sent_up_to }.text())),
    }
}

/// What a connection found when it read its user again.
enum Recheck {
    /// Same rights, or fewer (applied from the next event on).
    Same,
    /// The session ended.
    Ended,
    /// The user may now see more than before: the client must reload.
    SeesMore,
}

/// Reads the connection's user again and applies a new role to its filter at once.
async fn recheck(state: &AppState, me: &mut CurrentUser) -> Recheck {
    let Some(user) = crate::auth::extract::session_user(state, &me.principal).await else {
        return Recheck::Ended;
    };
    let role = user.role;
    let before = me.principal.role;
    me.principal.role = role;
    me.user = user;
    if before != role {
        tracing::info!(
            user_id = me.principal.user_id,
            from = before.as_str(),
            to = role.as_str(),
            "role changed on an open connection"
        );
    }
    let saw_all = before != crate::model::Role::Agent;
    let sees_all = role != crate::model::Role::Agent;
    if sees_all && !saw_all {
        Recheck::SeesMore
    } else {
        Recheck::Same
    }
}

/// Relays `{"type":"typing","chat_id":7,"on":true}` when the sender may see the chat.
async fn relay_typing(state: &AppState, me: &CurrentUser, message: &serde_json::Value) {
    let Some(chat_id) = message["chat_id"].as_i64() else {
        return;
    };
    let on = message["on"].as_bool().unwrap_or(true);
    let account = me.principal.account_id;
    let chat = state
        .db()
        .run(move |conn| crate::store::chats::find(conn, account, chat_id))
        .await;
    if let Ok(chat) = chat {
        if me
            .principal
            .may(crate::auth::policy::Action::SeeChat(&chat))
        {
            state.bus.typing(crate::model::Typing {
                account_id: account,
                chat_id,
                assignee_id: chat.assignee_id,
                contact_id: chat.contact_id,
                user_id: Some(me.principal.user_id),
                on,
            });
        }
    }
}
