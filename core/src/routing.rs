//! Pure assignment of queued conversations to agents.
//!
//! The server keeps the live facts (who is online, how many chats each agent has) and asks
//! this module what to do; the rule lives here once:
//!
//! * only **online** agents of the conversation's group take new chats (away keeps its
//!   chats, offline has none), and never above their `max_concurrent_chats`;
//! * among them the one with the most free capacity wins, ties going to the agent idle the
//!   longest (smallest `idle_since`), then to the smallest id so the result is deterministic;
//! * each group has a FIFO queue; [`plan_assignments`] serves the oldest waiting conversation
//!   first across all groups, so an agent in several groups takes the longest wait first.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use crate::protocol::AgentStatus;

/// What routing needs to know about an agent right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLoad {
    pub agent_id: String,
    pub agent_name: String,
    pub groups: Vec<String>,
    pub status: AgentStatus,
    pub active_chats: u32,
    pub max_concurrent_chats: u32,
    /// Since when the agent has had no new chat (unix ms): the longest idle wins ties.
    pub idle_since: i64,
}

impl AgentLoad {
    /// Chat slots left; 0 when full (or over, after a lowered limit).
    pub fn free_capacity(&self) -> u32 {
        self.max_concurrent_chats.saturating_sub(self.active_chats)
    }

    pub fn serves_group(&self, group: &str) -> bool {
        self.groups.iter().any(|name| name == group)
    }

    /// Online, in the group and not full.
    pub fn can_take(&self, group: &str) -> bool {
        self.status == AgentStatus::Online && self.serves_group(group) && self.free_capacity() > 0
    }
}

/// The agent that should take the next conversation of `group`, if any can.
pub fn pick_agent<'a>(agents: &'a [AgentLoad], group: &str) -> Option<&'a AgentLoad> {
    agents
        .iter()
        .filter(|agent| agent.can_take(group))
        .min_by(|left, right| {
            right
                .free_capacity()
                .cmp(&left.free_capacity())
                .then(left.idle_since.cmp(&right.idle_since))
                .then(left.agent_id.cmp(&right.agent_id))
        })
}

/// Online agents of the group, busy or not (the "no agent online" check).
pub fn agents_online(agents: &[AgentLoad], group: &str) -> usize {
    agents
        .iter()
        .filter(|agent| agent.status == AgentStatus::Online && agent.serves_group(group))
        .count()
}

/// Free chat slots over the online agents of the group.
pub fn free_capacity(agents: &[AgentLoad], group: &str) -> usize {
    agents
        .iter()
        .filter(|agent| agent.status == AgentStatus::Online && agent.serves_group(group))
        .map(|agent| agent.free_capacity() as usize)
        .sum()
}

/// A conversation waiting for an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueEntry {
    pub conversation_id: String,
    pub group: String,
    /// When it was queued (unix ms); orders waits across groups.
    pub queued_at: i64,
}

/// The FIFO waiting lines of all groups, in one list kept in arrival order.
///
/// One list rather than a map of lists keeps the cross-group order of
/// [`plan_assignments`] trivial; queues hold tens of entries, not millions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Queues {
    entries: VecDeque<QueueEntry>,
}

impl Queues {
    pub fn new() -> Self {
        Queues::default()
    }

    /// Adds a conversation at the back of its group's line. A conversation already waiting
    /// is moved (its group may have changed), keeping one entry per conversation.
    pub fn push(&mut self, entry: QueueEntry) {
        self.remove(&entry.conversation_id);
        // Keep arrival order even if a caller pushes an older entry late (a re-queue
        // restored from the log after a restart).
        let index = self
            .entries
            .iter()
            .position(|waiting| waiting.queued_at > entry.queued_at);
        match index {
            Some(index) => self.entries.insert(index, entry),
            None => self.entries.push_back(entry),
        }
    }

    /// Removes a conversation (assigned, ended, or moved); returns whether it was waiting.
    pub fn remove(&mut self, conversation_id: &str) -> bool {
        let before = self.entries.len();
        self.entries
            .retain(|entry| entry.conversation_id != conversation_id);
        self.entries.len() != before
    }

    /// 1-based position in its group's line (1 = served next), if waiting.
    pub fn position(&self, conversation_id: &str) -> Option<u32> {
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.conversation_id == conversation_id)?;
        let ahead = self
            .entries
            .iter()
            .take_while(|waiting| waiting.conversation_id != conversation_id)
            .filter(|waiting| waiting.group == entry.group)
            .count();
        Some(u32::try_from(ahead + 1).unwrap_or(u32::MAX))
    }

    /// Every waiting conversation with its position, for broadcasting `queue_position`.
    pub fn positions(&self) -> Vec<(String, u32)> {
        let mut seen_per_group: Vec<(&str, u32)> = Vec::new();
        let mut positions = Vec::with_capacity(self.entries.len());
        for entry in &self.entries {
            let position = match seen_per_group
                .iter_mut()
                .find(|(group, _)| *group == entry.group)
            {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    seen_per_group.push((&entry.group, 1));
                    1
                }
            };
            positions.push((entry.conversation_id.clone(), position));
        }
        positions
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> impl Iterator<Item = &QueueEntry> {
        self.entries.iter()
    }
}

/// One decision of [`plan_assignments`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub conversation_id: String,
    pub group: String,
    pub agent_id: String,
    pub agent_name: String,
}

/// Which waiting conversations go to which agents now, oldest wait first, each choice made
/// with [`pick_agent`] on loads updated by the choices before it. The caller applies each
/// assignment with `Command::AssignAgent` and removes it from the queue; `now` becomes the
/// agents' new `idle_since` so the next round spreads chats.
pub fn plan_assignments(agents: &[AgentLoad], queues: &Queues, now: i64) -> Vec<Assignment> {
    let mut loads = agents.to_vec();
    let mut assignments = Vec::new();
    for entry in queues.entries() {
        let Some(chosen) = pick_agent(&loads, &entry.group).map(|agent| agent.agent_id.clone())
        else {
            continue;
        };
        if let Some(agent) = loads.iter_mut().find(|agent| agent.agent_id == chosen) {
            agent.active_chats += 1;
            agent.idle_since = now;
            assignments.push(Assignment {
                conversation_id: entry.conversation_id.clone(),
                group: entry.group.clone(),
                agent_id: agent.agent_id.clone(),
                agent_name: agent.agent_name.clone(),
            });
        }
    }
    assignments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(
        agent_id: &str,
        groups: &[&str],
        status: AgentStatus,
        active: u32,
        max: u32,
        idle_since: i64,
    ) -> AgentLoad {
        AgentLoad {
            agent_id: agent_id.to_owned(),
            agent_name: agent_id.to_uppercase(),
            groups: groups.iter().map(|group| group.to_string()).collect(),
            status,
            active_chats: active,
            max_concurrent_chats: max,
            idle_since,
        }
    }

    fn entry(conversation_id: &str, group: &str, queued_at: i64) -> QueueEntry {
        QueueEntry {
            conversation_id: conversation_id.to_owned(),
            group: group.to_owned(),
            queued_at,
        }
    }

    #[test]
    fn picks_the_agent_with_most_free_capacity() {
        let agents = [
            agent("a", &["support"], AgentStatus::Online, 3, 5, 0),
            agent("b", &["support"], AgentStatus::Online, 1, 5, 100),
        ];
        assert_eq!(
            pick_agent(&agents, "support").map(|a| a.agent_id.as_str()),
            Some("b")
        );
    }

    #[test]
    fn ties_go_to_the_longest_idle() {
        let agents = [
            agent("a", &["support"], AgentStatus::Online, 1, 5, 500),
            agent("b", &["support"], AgentStatus::Online, 1, 5, 100),
        ];
        assert_eq!(
            pick_agent(&agents, "support").map(|a| a.agent_id.as_str()),
            Some("b")
        );
    }

    #[test]
    fn away_offline_full_and_other_groups_never_take_chats() {
        let agents = [
            agent("away", &["support"], AgentStatus::Away, 0, 5, 0),
            agent("offline", &["support"], AgentStatus::Offline, 0, 5, 0),
            agent("full", &["support"], AgentStatus::Online, 5, 5, 0),
            agent("over", &["support"], AgentStatus::Online, 7, 5, 0),
            agent("sales", &["sales"], AgentStatus::Online, 0, 5, 0),
        ];
        assert_eq!(pick_agent(&agents, "support"), None);
        assert_eq!(agents_online(&agents, "support"), 2);
        assert_eq!(free_capacity(&agents, "support"), 0);
    }

    #[test]
    fn queue_positions_are_fifo_per_group() {
        let mut queues = Queues::new();
        queues.push(entry("c1", "support", 10));
        queues.push(entry("c2", "sales", 20));
        queues.push(entry("c3", "support", 30));
        assert_eq!(queues.position("c1"), Some(1));
        assert_eq!(queues.position("c2"), Some(1));
        assert_eq!(queues.position("c3"), Some(2));
        assert_eq!(queues.position("missing"), None);
        assert!(queues.remove("c1"));
        assert_eq!(queues.position("c3"), Some(1));
        assert_eq!(
            queues.positions(),
            vec![("c2".to_owned(), 1), ("c3".to_owned(), 1)]
        );
    }

    #[test]
    fn a_late_older_entry_keeps_arrival_order_and_pushing_twice_moves() {
        let mut queues = Queues::new();
        queues.push(entry("new", "support", 50));
        queues.push(entry("old", "support", 10));
        assert_eq!(queues.position("old"), Some(1));
        queues.push(entry("old", "support", 60));
        assert_eq!(queues.position("old"), Some(2));
        assert_eq!(queues.len(), 2);
    }

    #[test]
    fn plan_serves_oldest_first_and_never_exceeds_capacity() {
        let agents = [
            agent("a", &["support", "sales"], AgentStatus::Online, 0, 1, 0),
            agent("b", &["support"], AgentStatus::Online, 1, 2, 5),
        ];
        let mut queues = Queues::new();
        queues.push(entry("c1", "sales", 10));
        queues.push(entry("c2", "support", 20));
        queues.push(entry("c3", "support", 30));
        let plan = plan_assignments(&agents, &queues, 1000);
        let pairs: Vec<(&str, &str)> = plan
            .iter()
            .map(|a| (a.conversation_id.as_str(), a.agent_id.as_str()))
            .collect();
        assert_eq!(pairs, vec![("c1", "a"), ("c2", "b")]);
    }
}
