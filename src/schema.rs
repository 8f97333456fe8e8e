//! The portable table definitions shared by SQLite, PostgreSQL and MySQL: the bottom of the
//! house, which the model's records and the store's queries are written against.

diesel::table! {
    accounts (id) {
        id -> BigInt,
        name -> Text,
        event_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        status -> Text,
        time_zone -> Text,
        language -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        account_id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Nullable<Text>,
        is_active -> Bool,
        can_receive_new_chats -> Bool,
        max_open_chats -> Nullable<Integer>,
        status -> Text,
        last_seen_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> BigInt,
        user_id -> BigInt,
        ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    password_tokens (id) {
        id -> BigInt,
        account_id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        purpose -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    channels (id) {
        id -> BigInt,
        account_id -> BigInt,
        kind -> Text,
        name -> Text,
        external_id -> Nullable<Text>,
        access_token -> Nullable<Text>,
        widget_key -> Nullable<Text>,
        allowed_origins -> Text,
        ai_enabled -> Bool,
        ai_system_prompt -> Nullable<Text>,
        ai_model -> Nullable<Text>,
        ai_temperature -> Nullable<Double>,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        widget_settings -> Nullable<Text>,
        api_key_hash -> Nullable<Text>,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        account_id -> BigInt,
        channel_id -> BigInt,
        external_id -> Text,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        picture_url -> Nullable<Text>,
        notes -> Nullable<Text>,
        name_edited -> Bool,
        profile_fetched_at -> Nullable<Timestamp>,
        profile_attempts -> Integer,
        profile_due_at -> Nullable<Timestamp>,
        profile_error -> Nullable<Text>,
    }
}

diesel::table! {
    widget_sessions (id) {
        id -> Text,
        account_id -> BigInt,
        channel_id -> BigInt,
        contact_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    chats (id) {
        id -> BigInt,
        account_id -> BigInt,
        channel_id -> BigInt,
        contact_id -> BigInt,
        status -> Text,
        assignee_id -> Nullable<BigInt>,
        last_message_at -> Nullable<Timestamp>,
        last_inbound_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        resolved_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        account_id -> BigInt,
        chat_id -> BigInt,
        channel_id -> BigInt,
        direction -> Text,
        sender_kind -> Text,
        sender_id -> Nullable<BigInt>,
        external_id -> Nullable<Text>,
        text -> Nullable<Text>,
        attachments -> Nullable<Text>,
        reply_to -> Nullable<Text>,
        is_private -> Bool,
        is_deleted -> Bool,
        delivery_status -> Text,
        delivery_error -> Nullable<Text>,
        delivery_attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        ai_model -> Nullable<Text>,
        prompt_tokens -> Nullable<Integer>,
        completion_tokens -> Nullable<Integer>,
        ai_latency_ms -> Nullable<Integer>,
        sent_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reactions -> Nullable<Text>,
    }
}

diesel::table! {
    chat_reads (chat_id, user_id) {
        chat_id -> BigInt,
        user_id -> BigInt,
        account_id -> BigInt,
        last_read_message_id -> BigInt,
        read_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        account_id -> BigInt,
        seq -> BigInt,
        event_type -> Text,
        chat_id -> Nullable<BigInt>,
        payload -> Text,
        created_at -> Timestamp,
        assignee_id -> Nullable<BigInt>,
        previous_assignee_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    assignment_cursors (account_id) {
        account_id -> BigInt,
        last_user_id -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    leads (id) {
        id -> BigInt,
        account_id -> BigInt,
        chat_id -> Nullable<BigInt>,
        contact_id -> Nullable<BigInt>,
        name -> Nullable<Text>,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        intent -> Nullable<Text>,
        summary -> Nullable<Text>,
        created_at -> Timestamp,
        status -> Text,
        notes -> Nullable<Text>,
        source -> Text,
        updated_at -> Nullable<Timestamp>,
        company -> Nullable<Text>,
        channel -> Nullable<Text>,
        last_contact_at -> Nullable<Timestamp>,
        extra -> Nullable<Text>,
        import_id -> Nullable<BigInt>,
        needs_action -> Nullable<Bool>,
        next_action_at -> Nullable<Timestamp>,
        next_action_description -> Nullable<Text>,
        analysis_state -> Nullable<Text>,
        analysis_error -> Nullable<Text>,
        analysis_attempts -> Integer,
        analysis_due_at -> Nullable<Timestamp>,
        analysed_at -> Nullable<Timestamp>,
        ai_fields -> Nullable<Text>,
        status_reason -> Nullable<Text>,
        source_status -> Nullable<Text>,
    }
}

diesel::table! {
    lead_imports (id) {
        id -> BigInt,
        account_id -> BigInt,
        created_by -> Nullable<BigInt>,
        format -> Text,
        header -> Nullable<Text>,
        chunks -> Nullable<Integer>,
        next_chunk -> Integer,
        total_rows -> Integer,
        imported -> Integer,
        updated -> Integer,
        rejected -> Integer,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        stored_at -> Nullable<Timestamp>,
        status_map -> Nullable<Text>,
        status_words -> Nullable<Text>,
        analysis_skipped -> Nullable<Text>,
        failure -> Nullable<Text>,
    }
}

diesel::table! {
    lead_import_chunks (import_id, seq) {
        import_id -> BigInt,
        seq -> Integer,
        first_line -> BigInt,
        body -> Text,
    }
}

diesel::table! {
    lead_import_rejections (import_id, line) {
        import_id -> BigInt,
        line -> BigInt,
        reason -> Text,
    }
}

diesel::table! {
    lead_import_merges (import_id, line) {
        import_id -> BigInt,
        line -> BigInt,
        lead_id -> BigInt,
        changes -> Text,
    }
}

diesel::table! {
    outgoing_webhooks (id) {
        id -> BigInt,
        account_id -> BigInt,
        url -> Text,
        secret -> Text,
        event_types -> Text,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        channel_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        account_id -> BigInt,
        webhook_id -> BigInt,
        event_seq -> BigInt,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        account_id -> BigInt,
        actor_user_id -> Nullable<BigInt>,
        action -> Text,
        target_type -> Nullable<Text>,
        target_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        details -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(users -> accounts (account_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(channels -> accounts (account_id));
diesel::joinable!(contacts -> channels (channel_id));
diesel::joinable!(chats -> contacts (contact_id));
diesel::joinable!(chats -> channels (channel_id));
diesel::joinable!(messages -> chats (chat_id));
diesel::joinable!(leads -> chats (chat_id));
diesel::joinable!(webhook_deliveries -> outgoing_webhooks (webhook_id));

diesel::table! {
    installation (id) {
        id -> BigInt,
        relay_channel -> Text,
    }
}

diesel::table! {
    canned_responses (id) {
        id -> BigInt,
        account_id -> BigInt,
        shortcut -> Text,
        text -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    labels (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        color -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    chat_labels (chat_id, label_id) {
        chat_id -> BigInt,
        label_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contact_labels (contact_id, label_id) {
        contact_id -> BigInt,
        label_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        account_id -> BigInt,
        name -> Text,
        prefix -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_keys -> users (created_by));
diesel::joinable!(chat_labels -> labels (label_id));
diesel::joinable!(contact_labels -> labels (label_id));

diesel::table! {
    ai_settings (account_id, channel_id) {
        account_id -> BigInt,
        channel_id -> BigInt,
        base_url -> Nullable<Text>,
        api_key_sealed -> Nullable<Text>,
        api_key_last4 -> Nullable<Text>,
        model -> Nullable<Text>,
        temperature -> Nullable<Double>,
        system_prompt -> Nullable<Text>,
        paused -> Nullable<Bool>,
        calls_per_minute -> Nullable<Integer>,
        tokens_per_month -> Nullable<BigInt>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    ai_usage (id) {
        id -> BigInt,
        account_id -> BigInt,
        channel_id -> Nullable<BigInt>,
        feature -> Text,
        model -> Text,
        prompt_tokens -> Integer,
        completion_tokens -> Integer,
        ok -> Bool,
        latency_ms -> Integer,
        at -> Timestamp,
    }
}

diesel::table! {
    media (id) {
        id -> BigInt,
        account_id -> BigInt,
        chat_id -> BigInt,
        message_id -> Nullable<BigInt>,
        origin -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        source_url -> Nullable<Text>,
        kind -> Text,
        name -> Nullable<Text>,
        content_type -> Nullable<Text>,
        size -> Nullable<BigInt>,
        sha256 -> Nullable<Text>,
        thumbnail -> Bool,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        lease_until -> Nullable<Timestamp>,
        uploaded_by -> Nullable<BigInt>,
        sent_mid -> Nullable<Text>,
        visitor_session -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    media_garbage (id) {
        id -> BigInt,
        account_id -> BigInt,
        sha256 -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    users,
    sessions,
    password_tokens,
    channels,
    contacts,
    widget_sessions,
    chats,
    messages,
    chat_reads,
    events,
    assignment_cursors,
    leads,
    outgoing_webhooks,
    webhook_deliveries,
    audit_log,
    canned_responses,
    labels,
    chat_labels,
    contact_labels,
    lead_imports,
    lead_import_chunks,
    lead_import_rejections,
    lead_import_merges,
    ai_settings,
    ai_usage,
    api_keys,
    media,
    media_garbage,
);
