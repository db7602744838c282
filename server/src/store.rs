//! Storage: the SQLite database behind sqlx, with the schema in `server/migrations/`.
//!
//! Every query is plain SQL that PostgreSQL also accepts; nothing here knows the rules of
//! the service (kefu-core does). Events are appended in one transaction per batch, and a
//! batch is acknowledged to clients only after its commit returned: in WAL mode a committed
//! transaction survives `kill -9` of the server.

use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, Result};
use kefu_core::config::KnowledgeItem;
use kefu_core::conversation::{Event, EventBody};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::auth;

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// An agent as stored (without the password hash).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub id: String,
    pub login: String,
    pub display_name: String,
    pub max_chats: u32,
    pub groups: Vec<String>,
    pub is_admin: bool,
    pub disabled: bool,
}

/// What [`Store::update_agent`] changes; `None` keeps the field.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AgentChange {
    pub display_name: Option<String>,
    pub max_chats: Option<u32>,
    pub groups: Option<Vec<String>>,
    pub disabled: Option<bool>,
    pub is_admin: Option<bool>,
}

/// The `agent_login` of audit entries written by the command line (see
/// [`Store::add_cli_audit`]); the widget's `admin::audit::CLI_ACTOR` is the same string.
pub const CLI_ACTOR: &str = "kefu command line";

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub agent_login: String,
    pub action: String,
    pub summary: String,
}

/// A visitor as stored.
#[derive(Debug, Clone)]
pub struct VisitorRecord {
    pub id: String,
    pub profile: serde_json::Value,
    pub first_seen: i64,
    pub visits: i64,
}

/// What to create a new agent with.
pub struct NewAgent<'a> {
    pub login: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub max_chats: u32,
    pub groups: &'a [String],
    pub is_admin: bool,
}

impl Store {
    /// Opens (creating if needed) the SQLite file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // NORMAL in WAL mode: a commit is in the WAL before it returns, so a killed
            // process loses nothing it acknowledged; only a power cut may lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            // When the WAL starts over after a checkpoint, its file is cut back instead of
            // being overwritten in place: the disk holds no stale WAL space, and a full disk
            // fails the next commit at once rather than whenever the old space runs out (the
            // history checker's disk-full fault relies on it).
            .pragma("journal_size_limit", "0")
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            // A local file cannot go stale the way a network connection can: no ping before
            // each query (it was a second round trip to SQLite's thread per statement).
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .with_context(|| format!("opening the database {}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .context("migrating the database")?;
        Ok(Store { pool })
    }

    // ---- the service configuration ------------------------------------------------------

    /// The stored service configuration, if one was saved.
    pub async fn service_config(&self) -> Result<Option<kefu_core::config::Config>> {
        let row = sqlx::query("SELECT config_json FROM service_config WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let json: &str = row.try_get("config_json")?;
            kefu_core::config::Config::from_json(json)
                .context("the stored service configuration does not parse")
        })
        .transpose()
    }

    pub async fn save_service_config(
        &self,
        config: &kefu_core::config::Config,
        now: i64,
    ) -> Result<()> {
        let json = serde_json::to_string(config)?;
        sqlx::query(
            "INSERT INTO service_config (id, config_json, updated_at) VALUES (1, ?, ?)
             ON CONFLICT (id) DO UPDATE SET config_json = excluded.config_json, updated_at = excluded.updated_at",
        )
        .bind(json)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    // ---- agents -------------------------------------------------------------------------

    /// Adds an agent; the login must be new.
    pub async fn add_agent(&self, agent: NewAgent<'_>, now: i64) -> Result<AgentRecord> {
        let hash = auth::hash_password(agent.password)?;
        self.add_agent_with_hash(agent, &hash, now).await
    }

    /// Adds an agent whose password hash (from [`auth::hash_password`]) is already known;
    /// `agent.password` is not used. Tests add many agents with one hash this way, because
    /// Argon2 is deliberately slow.
    pub async fn add_agent_with_hash(
        &self,
        agent: NewAgent<'_>,
        hash: &str,
        now: i64,
    ) -> Result<AgentRecord> {
        let id = auth::random_id();
        sqlx::query(
            "INSERT INTO agents (id, login, display_name, password_hash, max_chats, groups_json, is_admin, disabled, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
        )
        .bind(&id)
        .bind(agent.login)
        .bind(agent.display_name)
        .bind(hash)
        .bind(agent.max_chats as i64)
        .bind(serde_json::to_string(agent.groups)?)
        .bind(agent.is_admin as i64)
        .bind(now)
        .execute(&self.pool)
        .await
        .with_context(|| format!("adding agent {:?} (is the login already taken?)", agent.login))?;
        self.agent_by_id(&id)
            .await?
            .context("the agent just added is missing")
    }

    pub async fn list_agents(&self) -> Result<Vec<AgentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents ORDER BY login"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(agent_from_row).collect()
    }

    pub async fn agent_by_id(&self, id: &str) -> Result<Option<AgentRecord>> {
        let row = sqlx::query(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    /// The agent whose login and password match, unless disabled.
    pub async fn check_agent_password(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Option<AgentRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE login = ?"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Spend the same time as a real check, so logins cannot be probed by timing.
            let _ = auth::verify_password(password, DUMMY_HASH);
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        let agent = agent_from_row(&row)?;
        Ok((auth::verify_password(password, &hash) && !agent.disabled).then_some(agent))
    }

    pub async fn set_agent_password(&self, login: &str, password: &str) -> Result<bool> {
        let hash = auth::hash_password(password)?;
        let done = sqlx::query("UPDATE agents SET password_hash = ? WHERE login = ?")
            .bind(hash)
            .bind(login)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Disables (or enables again) an agent: a disabled agent cannot log in, and every
    /// session it had is revoked, so an old token stays dead even after it is enabled again.
    /// False when no agent has this login.
    pub async fn set_agent_disabled(&self, login: &str, disabled: bool) -> Result<bool> {
        let mut transaction = self.pool.begin().await?;
        let done = sqlx::query("UPDATE agents SET disabled = ? WHERE login = ?")
            .bind(i64::from(disabled))
            .bind(login)
            .execute(&mut *transaction)
            .await?;
        if disabled {
            sqlx::query("UPDATE agent_sessions SET revoked = 1 WHERE agent_id = (SELECT id FROM agents WHERE login = ?)")
                .bind(login)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Changes what an admin may change of an agent; `None` keeps a field. False when the
    /// login does not exist.
    pub async fn update_agent(&self, login: &str, change: &AgentChange) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agents SET display_name = COALESCE(?, display_name), max_chats = COALESCE(?, max_chats),
                 groups_json = COALESCE(?, groups_json), disabled = COALESCE(?, disabled), is_admin = COALESCE(?, is_admin)
             WHERE login = ?",
        )
        .bind(change.display_name.as_deref())
        .bind(change.max_chats.map(i64::from))
        .bind(change.groups.as_ref().map(serde_json::to_string).transpose()?)
        .bind(change.disabled.map(i64::from))
        .bind(change.is_admin.map(i64::from))
        .bind(login)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn agent_by_login(&self, login: &str) -> Result<Option<AgentRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE login = ?"
        ))
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    /// Revokes every session of an agent (disabled agents are logged out everywhere).
    pub async fn revoke_sessions_of(&self, agent_id: &str) -> Result<()> {
        sqlx::query("UPDATE agent_sessions SET revoked = 1 WHERE agent_id = ?")
            .bind(agent_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- the audit log ------------------------------------------------------------------

    pub async fn add_audit(
        &self,
        agent: &AgentRecord,
        action: &str,
        summary: &str,
        now: i64,
    ) -> Result<()> {
        self.insert_audit(&agent.id, &agent.login, action, summary, now)
            .await
    }

    /// An audit entry for a change made with the `kefu` command line, which has no agent
    /// behind it: `about_agent_id` (the agent changed) fills the entry's agent reference, and
    /// [`CLI_ACTOR`] its `agent_login`, which the settings show as "命令行 / Command line".
    pub async fn add_cli_audit(
        &self,
        about_agent_id: &str,
        action: &str,
        summary: &str,
        now: i64,
    ) -> Result<()> {
        self.insert_audit(about_agent_id, CLI_ACTOR, action, summary, now)
            .await
    }

    async fn insert_audit(
        &self,
        agent_id: &str,
        agent_login: &str,
        action: &str,
        summary: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, agent_id, agent_login, action, summary) VALUES (?, ?, ?, ?, ?)")
            .bind(now)
            .bind(agent_id)
            .bind(agent_login)
            .bind(action)
            .bind(summary)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest entries of the audit log, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, agent_login, action, summary FROM audit_log ORDER BY seq DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(AuditEntry {
                    at: row.try_get("at")?,
                    agent_login: row.try_get("agent_login")?,
                    action: row.try_get("action")?,
                    summary: row.try_get("summary")?,
                })
            })
            .collect()
    }

    /// Starts a session for an agent and returns its token (shown once, stored as a digest).
    pub async fn create_agent_session(
        &self,
        agent_id: &str,
        now: i64,
        lifetime_ms: i64,
    ) -> Result<String> {
        let token = auth::random_token();
        sqlx::query("INSERT INTO agent_sessions (token_sha256, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(auth::token_digest(&token))
            .bind(agent_id)
            .bind(now)
            .bind(now + lifetime_ms)
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The agent a session token belongs to, if the session is live and the agent enabled.
    pub async fn agent_for_session(&self, token: &str, now: i64) -> Result<Option<AgentRecord>> {
        let columns = AGENT_COLUMNS.replace("id,", "agents.id,");
        let row = sqlx::query(&format!(
            "SELECT {columns} FROM agent_sessions JOIN agents ON agents.id = agent_sessions.agent_id
             WHERE token_sha256 = ? AND revoked = 0 AND expires_at > ? AND agents.disabled = 0"
        ))
        .bind(auth::token_digest(token))
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(agent_from_row).transpose()
    }

    pub async fn revoke_agent_session(&self, token: &str) -> Result<()> {
        sqlx::query("UPDATE agent_sessions SET revoked = 1 WHERE token_sha256 = ?")
            .bind(auth::token_digest(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- visitors -----------------------------------------------------------------------

    /// Creates a visitor and returns it with its token (shown once, stored as a digest).
    pub async fn create_visitor(
        &self,
        profile: &serde_json::Value,
        now: i64,
    ) -> Result<(VisitorRecord, String)> {
        let id = auth::random_id();
        let token = auth::random_token();
        sqlx::query(
            "INSERT INTO visitors (id, token_sha256, profile_json, first_seen, last_seen, visits) VALUES (?, ?, ?, ?, ?, 1)",
        )
        .bind(&id)
        .bind(auth::token_digest(&token))
        .bind(profile.to_string())
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let record = VisitorRecord {
            id,
            profile: profile.clone(),
            first_seen: now,
            visits: 1,
        };
        Ok((record, token))
    }

    /// The visitor a token belongs to; stores the latest profile and counts a new visit when
    /// the visitor was away long enough (`kefu_core::presence::is_new_visit`), so reconnects
    /// and reloads do not inflate the count.
    pub async fn visit(
        &self,
        token: &str,
        profile: &serde_json::Value,
        now: i64,
    ) -> Result<Option<VisitorRecord>> {
        let digest = auth::token_digest(token);
        let last_seen: Option<i64> =
            sqlx::query_scalar("SELECT last_seen FROM visitors WHERE token_sha256 = ?")
                .bind(&digest)
                .fetch_optional(&self.pool)
                .await?;
        let Some(last_seen) = last_seen else {
            return Ok(None);
        };
        let new_visit = kefu_core::presence::is_new_visit(last_seen, now);
        sqlx::query(
            "UPDATE visitors SET last_seen = ?, visits = visits + ?, profile_json = ? WHERE token_sha256 = ?",
        )
        .bind(now)
        .bind(i64::from(new_visit))
        .bind(profile.to_string())
        .bind(&digest)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(
            "SELECT id, profile_json, first_seen, visits FROM visitors WHERE token_sha256 = ?",
        )
        .bind(&digest)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(VisitorRecord {
                id: row.try_get("id")?,
                profile: serde_json::from_str(row.try_get::<&str, _>("profile_json")?)?,
                first_seen: row.try_get("first_seen")?,
                visits: row.try_get("visits")?,
            })
        })
        .transpose()
    }

    // ---- conversations and their event logs ---------------------------------------------

    pub async fn create_conversation(
        &self,
        id: &str,
        visitor_id: &str,
        group: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO conversations (id, visitor_id, group_name, created_at) VALUES (?, ?, ?, ?)")
            .bind(id)
            .bind(visitor_id)
            .bind(group)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The ids of a visitor's conversations, oldest first.
    pub async fn conversations_of_visitor(&self, visitor_id: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM conversations WHERE visitor_id = ? ORDER BY created_at, id",
        )
        .bind(visitor_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
    }

    /// The visitor a conversation belongs to, if it exists.
    pub async fn visitor_of_conversation(&self, conversation_id: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT visitor_id FROM conversations WHERE id = ?")
            .bind(conversation_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok(row.try_get("visitor_id")?)).transpose()
    }

    /// Every conversation with its visitor, for rebuilding live state at start-up.
    pub async fn all_conversations(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT id, visitor_id, group_name FROM conversations ORDER BY created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("id")?,
                    row.try_get("visitor_id")?,
                    row.try_get("group_name")?,
                ))
            })
            .collect()
    }

    /// Appends events in one transaction. The primary key (conversation, seq) makes a second
    /// writer of the same seq fail instead of forking the log.
    ///
    /// When the append fails, its connection is closed instead of going back to the pool.
    /// After SQLITE_FULL (disk full) or an I/O error, SQLite may already have rolled the
    /// transaction back by itself; the ROLLBACK sqlx then sends fails, and sqlx's count of
    /// open transactions on that connection stays one too high. Its next `begin` is then a
    /// SAVEPOINT, whose "commit" releases only the savepoint inside a transaction that is
    /// never committed: later appends were acknowledged without being durable (lost on
    /// restart) while holding the write lock ("database is locked" for every other
    /// connection). Found by the history checker (`kefu-reliability`, RELIABILITY.md).
    /// Closing the connection ends whatever transaction SQLite still has open on it.
    pub async fn append_events(&self, conversation_id: &str, events: &[Event]) -> Result<()> {
        let mut connection = self.pool.acquire().await?;
        let result = append_events_on(&mut connection, conversation_id, events).await;
        if result.is_err() {
            connection.close_on_drop();
        }
        result
    }

    /// A conversation's events with seq greater than `after_seq`, in order.
    pub async fn events_after(&self, conversation_id: &str, after_seq: u64) -> Result<Vec<Event>> {
        let rows = sqlx::query("SELECT seq, at, body_json FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq")
            .bind(conversation_id)
            .bind(after_seq as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let body: EventBody = serde_json::from_str(row.try_get::<&str, _>("body_json")?)?;
                Ok(Event {
                    seq: row.try_get::<i64, _>("seq")? as u64,
                    at: row.try_get("at")?,
                    body,
                })
            })
            .collect()
    }

    /// A conversation's event at `seq`, if there is one.
    pub async fn event_at(&self, conversation_id: &str, seq: u64) -> Result<Option<Event>> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let row =
            sqlx::query("SELECT at, body_json FROM events WHERE conversation_id = ? AND seq = ?")
                .bind(conversation_id)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(Event {
                seq: seq as u64,
                at: row.try_get("at")?,
                body: serde_json::from_str(row.try_get::<&str, _>("body_json")?)?,
            })
        })
        .transpose()
    }

    // ---- votes on robot answers -----------------------------------------------------------

    /// Stores a vote decided by [`kefu_core::feedback::decide_vote`]; a later vote on the
    /// same answer replaces the earlier one.
    pub async fn record_vote(&self, vote: &kefu_core::feedback::Vote, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO answer_votes (conversation_id, seq, knowledge_id, verdict, at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (conversation_id, seq) DO UPDATE SET verdict = excluded.verdict, at = excluded.at",
        )
        .bind(&vote.conversation_id)
        .bind(vote.seq as i64)
        .bind(&vote.knowledge_id)
        .bind(vote.verdict.as_str())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How each knowledge item's answers were judged (items without votes are absent).
    pub async fn vote_tallies(
        &self,
    ) -> Result<std::collections::HashMap<String, kefu_core::feedback::Tally>> {
        let rows = sqlx::query(
            "SELECT knowledge_id, verdict, COUNT(*) AS n FROM answer_votes GROUP BY knowledge_id, verdict",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tallies = std::collections::HashMap::<String, kefu_core::feedback::Tally>::new();
        for row in rows {
            let count = row.try_get::<i64, _>("n")?.max(0) as u64;
            let tally = tallies.entry(row.try_get("knowledge_id")?).or_default();
            match kefu_core::feedback::Verdict::parse(row.try_get("verdict")?) {
                Some(kefu_core::feedback::Verdict::Helpful) => tally.helpful += count,
                Some(kefu_core::feedback::Verdict::NotHelpful) => tally.not_helpful += count,
                None => {}
            }
        }
        Ok(tallies)
    }

    // ---- knowledge ----------------------------------------------------------------------

    /// Copies `items` into the knowledge table once in the database's life (the first run);
    /// later runs keep whatever the operator made of it, even an empty knowledge base.
    pub async fn seed_knowledge_once(&self, items: &[KnowledgeItem], now: i64) -> Result<bool> {
        let mut transaction = self.pool.begin().await?;
        let seeded = sqlx::query("SELECT value FROM meta WHERE key = 'knowledge_seeded'")
            .fetch_optional(&mut *transaction)
            .await?;
        if seeded.is_some() {
            return Ok(false);
        }
        upsert_knowledge(&mut transaction, items, now).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('knowledge_seeded', 1)")
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Adds or replaces items by id, all in one transaction (nothing is written on an error).
    /// Replaced items keep their hit counts and place. Returns (added, replaced).
    pub async fn import_knowledge(
        &self,
        items: &[KnowledgeItem],
        now: i64,
    ) -> Result<(usize, usize)> {
        let mut transaction = self.pool.begin().await?;
        let counts = upsert_knowledge(&mut transaction, items, now).await?;
        // An import before the first `kefu serve` means the operator brings their own
        // knowledge: the demo is then not seeded on top of it.
        sqlx::query("INSERT INTO meta (key, value) VALUES ('knowledge_seeded', 1) ON CONFLICT (key) DO NOTHING")
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(counts)
    }

    /// Every knowledge item with its hit count, in the operator's order.
    pub async fn knowledge(&self) -> Result<Vec<(KnowledgeItem, u64)>> {
        let rows = sqlx::query(
            "SELECT id, category, question, similar_json, answer, enabled, hit_count FROM knowledge ORDER BY position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let item = KnowledgeItem {
                    id: row.try_get("id")?,
                    category: row.try_get("category")?,
                    question: row.try_get("question")?,
                    similar: serde_json::from_str(row.try_get::<&str, _>("similar_json")?)?,
                    answer: row.try_get("answer")?,
                    enabled: row.try_get::<i64, _>("enabled")? != 0,
                };
                Ok((item, row.try_get::<i64, _>("hit_count")?.max(0) as u64))
            })
            .collect()
    }

    /// Counts one robot answer from an item.
    pub async fn record_knowledge_hit(&self, id: &str) -> Result<()> {
        sqlx::query("UPDATE knowledge SET hit_count = hit_count + 1 WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Bumped on every change of the knowledge items (not on hits), so that a running server
    /// notices an import made by another process and rebuilds the robot's index.
    pub async fn knowledge_version(&self) -> Result<i64> {
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'knowledge_version'")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row
            .map(|row| row.try_get::<i64, _>("value"))
            .transpose()?
            .unwrap_or(0))
    }

    // ---- canned phrases -----------------------------------------------------------------

    /// Copies shared phrases in once in the database's life (the first run).
    pub async fn seed_canned_phrases_once(
        &self,
        phrases: &[(String, String)],
        now: i64,
    ) -> Result<()> {
        let mut transaction = self.pool.begin().await?;
        let seeded = sqlx::query("SELECT value FROM meta WHERE key = 'canned_phrases_seeded'")
            .fetch_optional(&mut *transaction)
            .await?;
        if seeded.is_some() {
            return Ok(());
        }
        for (category, content) in phrases {
            sqlx::query(
                "INSERT INTO canned_phrases (id, owner_agent_id, category, content, created_at, updated_at) VALUES (?, NULL, ?, ?, ?, ?)",
            )
            .bind(auth::random_id())
            .bind(category)
            .bind(content)
            .bind(now)
            .bind(now)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('canned_phrases_seeded', 1)")
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The shared phrases and the agent's own, shared first, each by category then age.
    pub async fn canned_phrases_for(&self, agent_id: &str) -> Result<Vec<CannedPhraseRecord>> {
        let rows = sqlx::query(
            "SELECT id, owner_agent_id, category, content FROM canned_phrases
             WHERE owner_agent_id IS NULL OR owner_agent_id = ?
             ORDER BY CASE WHEN owner_agent_id IS NULL THEN 0 ELSE 1 END, category, created_at, id",
        )
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(canned_phrase_from_row).collect()
    }

    pub async fn canned_phrase(&self, id: &str) -> Result<Option<CannedPhraseRecord>> {
        let row = sqlx::query(
            "SELECT id, owner_agent_id, category, content FROM canned_phrases WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(canned_phrase_from_row).transpose()
    }

    /// Adds a phrase; `owner_agent_id` None makes it shared.
    pub async fn add_canned_phrase(
        &self,
        owner_agent_id: Option<&str>,
        category: &str,
        content: &str,
        now: i64,
    ) -> Result<CannedPhraseRecord> {
        let id = auth::random_id();
        sqlx::query(
            "INSERT INTO canned_phrases (id, owner_agent_id, category, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(owner_agent_id)
        .bind(category)
        .bind(content)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(CannedPhraseRecord {
            id,
            owner_agent_id: owner_agent_id.map(str::to_owned),
            category: category.to_owned(),
            content: content.to_owned(),
        })
    }

    pub async fn update_canned_phrase(
        &self,
        id: &str,
        category: &str,
        content: &str,
        now: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE canned_phrases SET category = ?, content = ?, updated_at = ? WHERE id = ?",
        )
        .bind(category)
        .bind(content)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_canned_phrase(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM canned_phrases WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// A stored canned phrase (常用语).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CannedPhraseRecord {
    pub id: String,
    /// None for a phrase shared by every agent.
    pub owner_agent_id: Option<String>,
    pub category: String,
    pub content: String,
}

/// The transaction of [`Store::append_events`], on one connection.
async fn append_events_on(
    connection: &mut sqlx::SqliteConnection,
    conversation_id: &str,
    events: &[Event],
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    // All the events in one INSERT: a single statement is atomic on its own, so the common
    // case (no hit to count) is one round trip to SQLite's thread instead of three.
    let rows = vec!["(?, ?, ?, ?)"; events.len()].join(", ");
    let sql = format!("INSERT INTO events (conversation_id, seq, at, body_json) VALUES {rows}");
    let mut insert = sqlx::query(&sql);
    for event in events {
        insert = insert
            .bind(conversation_id)
            .bind(event.seq as i64)
            .bind(event.at)
            .bind(serde_json::to_string(&event.body)?);
    }
    let hits: Vec<&str> = events
        .iter()
        .filter_map(|event| match &event.body {
            EventBody::RobotAnswer {
                knowledge_id: Some(id),
                ..
            } => Some(id.as_str()),
            _ => None,
        })
        .collect();
    if hits.is_empty() {
        insert.execute(&mut *connection).await?;
        return Ok(());
    }
    // A robot answer counts a hit of its knowledge item in the same transaction: the counts
    // agree with the log.
    let mut transaction = sqlx::Connection::begin(connection).await?;
    insert.execute(&mut *transaction).await?;
    for id in hits {
        sqlx::query("UPDATE knowledge SET hit_count = hit_count + 1 WHERE id = ?")
            .bind(id)
            .execute(&mut *transaction)
            .await?;
    }
    transaction.commit().await?;
    Ok(())
}

fn canned_phrase_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<CannedPhraseRecord> {
    Ok(CannedPhraseRecord {
        id: row.try_get("id")?,
        owner_agent_id: row.try_get("owner_agent_id")?,
        category: row.try_get("category")?,
        content: row.try_get("content")?,
    })
}

/// Inserts or replaces knowledge items and bumps the knowledge version; returns (added, replaced).
async fn upsert_knowledge(
    transaction: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    items: &[KnowledgeItem],
    now: i64,
) -> Result<(usize, usize)> {
    let (mut added, mut replaced) = (0, 0);
    for item in items {
        let exists = sqlx::query("SELECT 1 FROM knowledge WHERE id = ?")
            .bind(&item.id)
            .fetch_optional(&mut **transaction)
            .await?;
        if exists.is_some() {
            replaced += 1;
        } else {
            added += 1;
        }
        sqlx::query(
            "INSERT INTO knowledge (id, category, question, similar_json, answer, enabled, hit_count, position, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, 0, (SELECT COALESCE(MAX(position), 0) + 1 FROM knowledge), ?)
             ON CONFLICT (id) DO UPDATE SET category = excluded.category, question = excluded.question,
                 similar_json = excluded.similar_json, answer = excluded.answer, enabled = excluded.enabled,
                 updated_at = excluded.updated_at",
        )
        .bind(&item.id)
        .bind(&item.category)
        .bind(&item.question)
        .bind(serde_json::to_string(&item.similar)?)
        .bind(&item.answer)
        .bind(item.enabled as i64)
        .bind(now)
        .execute(&mut **transaction)
        .await
        .with_context(|| format!("storing knowledge item {:?}", item.id))?;
    }
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('knowledge_version', 1)
         ON CONFLICT (key) DO UPDATE SET value = meta.value + 1",
    )
    .execute(&mut **transaction)
    .await?;
    Ok((added, replaced))
}

const AGENT_COLUMNS: &str = "id, login, display_name, max_chats, groups_json, is_admin, disabled";

/// A valid Argon2 hash of nothing anyone types, checked when a login does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7Zs3oE3kx9JcyQnSgu5SqC6eFbdmEBq6UujbZf0ZjqU";

fn agent_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<AgentRecord> {
    Ok(AgentRecord {
        id: row.try_get("id")?,
        login: row.try_get("login")?,
        display_name: row.try_get("display_name")?,
        max_chats: row.try_get::<i64, _>("max_chats")?.max(0) as u32,
        groups: serde_json::from_str(row.try_get::<&str, _>("groups_json")?)?,
        is_admin: row.try_get::<i64, _>("is_admin")? != 0,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
    })
}
