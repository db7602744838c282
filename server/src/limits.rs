//! Rate limits on customers' frames: one token bucket per visitor and one per IP address.
//!
//! A frame takes one token from both buckets or from neither; a frame that finds either
//! empty is answered with `rate_limited` and dropped, and the connection stays open. Buckets
//! refill continuously on the service's [`Clock`](crate::clock::Clock), so tests drive them
//! without waiting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

impl Bucket {
    /// The bucket's tokens at `now_ms`.
    fn refilled(self, rate: Rate, now_ms: i64) -> Bucket {
        let elapsed_seconds = (now_ms - self.updated_ms).max(0) as f64 / 1000.0;
        Bucket {
            tokens: (self.tokens + elapsed_seconds * rate.per_second).min(rate.burst),
            updated_ms: now_ms.max(self.updated_ms),
        }
    }
}

/// More buckets than this and the full ones (idle senders) are forgotten.
const MAX_BUCKETS: usize = 50_000;

struct Buckets {
    visitors: HashMap<String, Bucket>,
    ips: HashMap<IpAddr, Bucket>,
}

/// The per-visitor and per-IP buckets of the service.
pub struct RateLimits {
    per_visitor: Rate,
    per_ip: Rate,
    buckets: Mutex<Buckets>,
}

impl RateLimits {
    pub fn new(per_visitor: Rate, per_ip: Rate) -> RateLimits {
        RateLimits {
            per_visitor,
            per_ip,
            buckets: Mutex::new(Buckets {
                visitors: HashMap::new(),
                ips: HashMap::new(),
            }),
        }
    }

    /// Whether a frame of this visitor from this address may pass now; takes its tokens if so.
    pub fn allow(&self, visitor_id: &str, ip: Option<IpAddr>, now_ms: i64) -> bool {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let full = |rate: Rate| Bucket {
            tokens: rate.burst,
            updated_ms: now_ms,
        };
        let visitor = buckets
            .visitors
            .get(visitor_id)
            .copied()
            .unwrap_or(full(self.per_visitor))
            .refilled(self.per_visitor, now_ms);
        let address = ip.map(|ip| {
            buckets
                .ips
                .get(&ip)
                .copied()
                .unwrap_or(full(self.per_ip))
                .refilled(self.per_ip, now_ms)
        });
        let allowed = visitor.tokens >= 1.0 && address.is_none_or(|bucket| bucket.tokens >= 1.0);
        let take = if allowed { 1.0 } else { 0.0 };
        buckets.visitors.insert(
            visitor_id.to_owned(),
            Bucket {
                tokens: visitor.tokens - take,
                ..visitor
            },
        );
        if let (Some(ip), Some(bucket)) = (ip, address) {
            buckets.ips.insert(
                ip,
                Bucket {
                    tokens: bucket.tokens - take,
                    ..bucket
                },
            );
        }
        if buckets.visitors.len() + buckets.ips.len() > MAX_BUCKETS {
            let (visitor_rate, ip_rate) = (self.per_visitor, self.per_ip);
            buckets.visitors.retain(|_, bucket| {
                bucket.refilled(visitor_rate, now_ms).tokens < visitor_rate.burst
            });
            buckets
                .ips
                .retain(|_, bucket| bucket.refilled(ip_rate, now_ms).tokens < ip_rate.burst);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEN_PER_SECOND: Rate = Rate {
        per_second: 10.0,
        burst: 20.0,
    };

    fn allowed_of(
        limits: &RateLimits,
        visitor: &str,
        ip: Option<IpAddr>,
        now: i64,
        tries: usize,
    ) -> usize {
        (0..tries)
            .filter(|_| limits.allow(visitor, ip, now))
            .count()
    }

    #[test]
    fn a_visitor_gets_the_burst_then_the_rate() {
        let limits = RateLimits::new(
            TEN_PER_SECOND,
            Rate {
                per_second: 1000.0,
                burst: 1000.0,
            },
        );
        assert_eq!(allowed_of(&limits, "v1", None, 0, 30), 20);
        assert_eq!(
            allowed_of(&limits, "v1", None, 500, 30),
            5,
            "half a second refills five"
        );
        assert_eq!(
            allowed_of(&limits, "v2", None, 500, 30),
            20,
            "visitors have their own buckets"
        );
        assert_eq!(
            allowed_of(&limits, "v1", None, 100_000, 30),
            20,
            "a bucket holds at most the burst"
        );
    }

    #[test]
    fn an_address_limits_every_visitor_behind_it() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let limits = RateLimits::new(
            TEN_PER_SECOND,
            Rate {
                per_second: 10.0,
                burst: 30.0,
            },
        );
        assert_eq!(allowed_of(&limits, "v1", Some(ip), 0, 20), 20);
        assert_eq!(
            allowed_of(&limits, "v2", Some(ip), 0, 20),
            10,
            "the address has 30 in all"
        );
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(allowed_of(&limits, "v3", Some(other), 0, 20), 20);
        // A refused frame takes no token from the visitor's bucket.
        assert_eq!(allowed_of(&limits, "v2", None, 0, 20), 10);
    }
}
