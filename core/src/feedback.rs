//! "Was this helpful?" (有用 / 没用) on the robot's knowledge answers.
//!
//! A customer votes on one answer of their own conversation, named by the event's `seq`
//! (the `vote` frame, PROTOCOL.md). [`decide_vote`] says whether a vote counts and for which
//! knowledge item: only a [`EventBody::RobotAnswer`] that came from a knowledge item (the
//! no-answer reply and notices are not votable), only in a conversation of the voting
//! visitor. The caller looks the event up (the server in its store, the in-browser backend
//! in memory) and passes it in, so this stays pure.
//!
//! **A second vote on the same answer replaces the first.** Visitors expect a pressed
//! button to be changeable (a mis-tap on 有用 must not be stuck); each answer counts once,
//! with its latest verdict. [`Votes`] is that rule as a data structure, used by the
//! in-browser backend; the server's store keeps one row per answer with the same upsert.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::conversation::{Event, EventBody};
use crate::protocol::ErrorCode;

/// The customer's judgement of one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// 有用.
    Helpful,
    /// 没用: the panel offers the other suggestions and, where offered, a person.
    NotHelpful,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Helpful => "helpful",
            Verdict::NotHelpful => "not_helpful",
        }
    }

    /// The inverse of [`Verdict::as_str`] (for a store).
    pub fn parse(text: &str) -> Option<Verdict> {
        match text {
            "helpful" => Some(Verdict::Helpful),
            "not_helpful" => Some(Verdict::NotHelpful),
            _ => None,
        }
    }
}

/// A vote that counts: for the knowledge item that produced the answer at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub conversation_id: String,
    pub seq: u64,
    pub knowledge_id: String,
    pub verdict: Verdict,
}

/// Why a vote does not count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    /// The conversation is not one of the voting visitor's (or does not exist).
    #[error("no such conversation")]
    NotYourConversation,
    /// No event at that seq in the conversation.
    #[error("no event {seq} in this conversation")]
    NoSuchEvent { seq: u64 },
    /// The event is not a robot answer from a knowledge item.
    #[error("event {seq} is not a robot knowledge answer")]
    NotAKnowledgeAnswer { seq: u64 },
}

impl VoteRefusal {
    /// The `error` frame code: every refusal is `not_found` (no votable answer there).
    pub fn error_code(&self) -> ErrorCode {
        ErrorCode::NotFound
    }
}

/// Decides whether a visitor's vote counts. `owned`: the conversation is the visitor's;
/// `event`: the conversation's event at `seq`, if there is one.
pub fn decide_vote(
    conversation_id: &str,
    owned: bool,
    seq: u64,
    event: Option<&Event>,
    verdict: Verdict,
) -> Result<Vote, VoteRefusal> {
    if !owned {
        return Err(VoteRefusal::NotYourConversation);
    }
    let event = event
        .filter(|event| event.seq == seq)
        .ok_or(VoteRefusal::NoSuchEvent { seq })?;
    match &event.body {
        EventBody::RobotAnswer {
            knowledge_id: Some(knowledge_id),
            ..
        } => Ok(Vote {
            conversation_id: conversation_id.to_owned(),
            seq,
            knowledge_id: knowledge_id.clone(),
            verdict,
        }),
        _ => Err(VoteRefusal::NotAKnowledgeAnswer { seq }),
    }
}

/// Whether an event is a robot answer a customer may vote on (the panel shows 有用 / 没用
/// under exactly these).
pub fn is_votable(event: &Event) -> bool {
    matches!(
        event.body,
        EventBody::RobotAnswer {
            knowledge_id: Some(_),
            ..
        }
    )
}

/// How a knowledge item was judged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub helpful: u64,
    pub not_helpful: u64,
}

/// Every answer's latest vote, keyed by (conversation id, seq).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Votes {
    by_answer: BTreeMap<(String, u64), Vote>,
}

impl Votes {
    /// Records a vote, replacing an earlier one on the same answer; returns the replaced
    /// verdict.
    pub fn record(&mut self, vote: Vote) -> Option<Verdict> {
        let key = (vote.conversation_id.clone(), vote.seq);
        self.by_answer
            .insert(key, vote)
            .map(|previous| previous.verdict)
    }

    /// The verdict given on an answer, if any.
    pub fn verdict(&self, conversation_id: &str, seq: u64) -> Option<Verdict> {
        self.by_answer
            .get(&(conversation_id.to_owned(), seq))
            .map(|vote| vote.verdict)
    }

    /// Counts per knowledge item: each answer once, with its latest verdict.
    pub fn tallies(&self) -> BTreeMap<String, Tally> {
        let mut tallies = BTreeMap::<String, Tally>::new();
        for vote in self.by_answer.values() {
            let tally = tallies.entry(vote.knowledge_id.clone()).or_default();
            match vote.verdict {
                Verdict::Helpful => tally.helpful += 1,
                Verdict::NotHelpful => tally.not_helpful += 1,
            }
        }
        tallies
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Suggestion;

    fn answer(seq: u64, knowledge_id: Option<&str>) -> Event {
        Event {
            seq,
            at: 0,
            body: EventBody::RobotAnswer {
                knowledge_id: knowledge_id.map(str::to_owned),
                text: "答".to_owned(),
                suggestions: vec![Suggestion {
                    id: "k2".to_owned(),
                    question: "别的".to_owned(),
                }],
            },
        }
    }

    #[test]
    fn a_vote_on_a_knowledge_answer_counts_for_its_item() {
        let event = answer(3, Some("k1"));
        let vote = decide_vote("c1", true, 3, Some(&event), Verdict::NotHelpful).unwrap();
        assert_eq!(vote.knowledge_id, "k1");
        assert_eq!(vote.seq, 3);
        assert_eq!(vote.verdict, Verdict::NotHelpful);
    }

    #[test]
    fn votes_on_other_things_are_refused() {
        let event = answer(3, Some("k1"));
        assert_eq!(
            decide_vote("c1", false, 3, Some(&event), Verdict::Helpful),
            Err(VoteRefusal::NotYourConversation)
        );
        assert_eq!(
            decide_vote("c1", true, 4, None, Verdict::Helpful),
            Err(VoteRefusal::NoSuchEvent { seq: 4 })
        );
        // An event handed in for another seq is not the one voted on.
        assert_eq!(
            decide_vote("c1", true, 4, Some(&event), Verdict::Helpful),
            Err(VoteRefusal::NoSuchEvent { seq: 4 })
        );
        let no_item = answer(5, None);
        assert_eq!(
            decide_vote("c1", true, 5, Some(&no_item), Verdict::Helpful),
            Err(VoteRefusal::NotAKnowledgeAnswer { seq: 5 })
        );
        let miss = Event {
            seq: 6,
            at: 0,
            body: EventBody::RobotMiss {
                text: "没找到".to_owned(),
                suggestions: Vec::new(),
            },
        };
        assert_eq!(
            decide_vote("c1", true, 6, Some(&miss), Verdict::Helpful),
            Err(VoteRefusal::NotAKnowledgeAnswer { seq: 6 })
        );
        assert!(!is_votable(&miss) && is_votable(&event) && !is_votable(&no_item));
    }

    #[test]
    fn a_second_vote_replaces_the_first() {
        let mut votes = Votes::default();
        let event = answer(3, Some("k1"));
        let helpful = decide_vote("c1", true, 3, Some(&event), Verdict::Helpful).unwrap();
        let not_helpful = decide_vote("c1", true, 3, Some(&event), Verdict::NotHelpful).unwrap();
        assert_eq!(votes.record(helpful), None);
        assert_eq!(votes.record(not_helpful), Some(Verdict::Helpful));
        assert_eq!(votes.verdict("c1", 3), Some(Verdict::NotHelpful));
        assert_eq!(
            votes.tallies().get("k1"),
            Some(&Tally {
                helpful: 0,
                not_helpful: 1
            })
        );
    }

    #[test]
    fn verdicts_round_trip_as_text() {
        for verdict in [Verdict::Helpful, Verdict::NotHelpful] {
            assert_eq!(Verdict::parse(verdict.as_str()), Some(verdict));
        }
        assert_eq!(Verdict::parse("meh"), None);
    }
}
