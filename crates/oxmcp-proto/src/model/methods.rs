//! The method names of every legacy revision, and the revision that introduced each.

use crate::version::ProtocolVersion;

/// `initialize` (client → server).
pub const INITIALIZE: &str = "initialize";
/// `ping` (either way).
pub const PING: &str = "ping";
/// `tools/list` (client → server).
pub const TOOLS_LIST: &str = "tools/list";
/// `tools/call` (client → server).
pub const TOOLS_CALL: &str = "tools/call";
/// `resources/list` (client → server).
pub const RESOURCES_LIST: &str = "resources/list";
/// `resources/templates/list` (client → server).
pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
/// `resources/read` (client → server).
pub const RESOURCES_READ: &str = "resources/read";
/// `resources/subscribe` (client → server).
pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
/// `resources/unsubscribe` (client → server).
pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
/// `prompts/list` (client → server).
pub const PROMPTS_LIST: &str = "prompts/list";
/// `prompts/get` (client → server).
pub const PROMPTS_GET: &str = "prompts/get";
/// `completion/complete` (client → server).
pub const COMPLETION_COMPLETE: &str = "completion/complete";
/// `logging/setLevel` (client → server).
pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
/// `sampling/createMessage` (server → client).
pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
/// `roots/list` (server → client).
pub const ROOTS_LIST: &str = "roots/list";
/// `elicitation/create` (server → client, 2025-06-18).
pub const ELICITATION_CREATE: &str = "elicitation/create";
/// `tasks/get` (either way, 2025-11-25).
pub const TASKS_GET: &str = "tasks/get";
/// `tasks/result` (either way, 2025-11-25).
pub const TASKS_RESULT: &str = "tasks/result";
/// `tasks/list` (either way, 2025-11-25).
pub const TASKS_LIST: &str = "tasks/list";
/// `tasks/cancel` (either way, 2025-11-25).
pub const TASKS_CANCEL: &str = "tasks/cancel";

/// `notifications/initialized` (client → server).
pub const NOTIFICATION_INITIALIZED: &str = "notifications/initialized";
/// `notifications/cancelled` (either way).
pub const NOTIFICATION_CANCELLED: &str = "notifications/cancelled";
/// `notifications/progress` (either way).
pub const NOTIFICATION_PROGRESS: &str = "notifications/progress";
/// `notifications/message`: a log message (server → client).
pub const NOTIFICATION_MESSAGE: &str = "notifications/message";
/// `notifications/tools/list_changed` (server → client).
pub const NOTIFICATION_TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
/// `notifications/resources/list_changed` (server → client).
pub const NOTIFICATION_RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
/// `notifications/resources/updated` (server → client).
pub const NOTIFICATION_RESOURCES_UPDATED: &str = "notifications/resources/updated";
/// `notifications/prompts/list_changed` (server → client).
pub const NOTIFICATION_PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";
/// `notifications/roots/list_changed` (client → server).
pub const NOTIFICATION_ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
/// `notifications/elicitation/complete` (server → client, 2025-11-25).
pub const NOTIFICATION_ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";
/// `notifications/tasks/status` (either way, 2025-11-25).
pub const NOTIFICATION_TASKS_STATUS: &str = "notifications/tasks/status";

/// Every request method of the legacy revisions.
pub const REQUESTS: [&str; 20] = [
    INITIALIZE,
    PING,
    TOOLS_LIST,
    TOOLS_CALL,
    RESOURCES_LIST,
    RESOURCES_TEMPLATES_LIST,
    RESOURCES_READ,
    RESOURCES_SUBSCRIBE,
    RESOURCES_UNSUBSCRIBE,
    PROMPTS_LIST,
    PROMPTS_GET,
    COMPLETION_COMPLETE,
    LOGGING_SET_LEVEL,
    SAMPLING_CREATE_MESSAGE,
    ROOTS_LIST,
    ELICITATION_CREATE,
    TASKS_GET,
    TASKS_RESULT,
    TASKS_LIST,
    TASKS_CANCEL,
];

/// Every notification method of the legacy revisions.
pub const NOTIFICATIONS: [&str; 11] = [
    NOTIFICATION_INITIALIZED,
    NOTIFICATION_CANCELLED,
    NOTIFICATION_PROGRESS,
    NOTIFICATION_MESSAGE,
    NOTIFICATION_TOOLS_LIST_CHANGED,
    NOTIFICATION_RESOURCES_LIST_CHANGED,
    NOTIFICATION_RESOURCES_UPDATED,
    NOTIFICATION_PROMPTS_LIST_CHANGED,
    NOTIFICATION_ROOTS_LIST_CHANGED,
    NOTIFICATION_ELICITATION_COMPLETE,
    NOTIFICATION_TASKS_STATUS,
];

/// The first legacy revision that has `method` (a request or a notification); `None` for
/// a method no legacy revision defines.
pub fn introduced_in(method: &str) -> Option<ProtocolVersion> {
    Some(match method {
        ELICITATION_CREATE => ProtocolVersion::V2025_06_18,
        TASKS_GET
        | TASKS_RESULT
        | TASKS_LIST
        | TASKS_CANCEL
        | NOTIFICATION_ELICITATION_COMPLETE
        | NOTIFICATION_TASKS_STATUS => ProtocolVersion::V2025_11_25,
        m if REQUESTS.contains(&m) || NOTIFICATIONS.contains(&m) => ProtocolVersion::V2024_11_05,
        _ => return None,
    })
}

/// Whether revision `version` has `method`.
pub fn exists_in(method: &str, version: ProtocolVersion) -> bool {
    introduced_in(method)
        .is_some_and(|since| since <= version && version <= ProtocolVersion::LATEST_LEGACY)
}
