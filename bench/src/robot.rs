//! Robot throughput: queries per second and p99 latency of `KnowledgeIndex::ask` over
//! knowledge bases of growing size, made from the demo items so the text is realistic.

use std::time::Instant;

use kefu_core::config::KnowledgeItem;
use kefu_core::robot::KnowledgeIndex;

/// What one knowledge-base size measured.
pub struct RobotResult {
    pub items: usize,
    pub build_ms: f64,
    pub queries_per_second: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// A knowledge base of `size` items: the demo items, then variants that name a product line
/// and a region, the way a real shop's base grows (same questions, different subjects).
pub fn knowledge_base(size: usize) -> Vec<KnowledgeItem> {
    let demo: Vec<KnowledgeItem> =
        serde_json::from_str(include_str!("../../core/demo/knowledge.json"))
            .expect("the demo knowledge base parses");
    let products = [
        "手机", "耳机", "平板", "手表", "音箱", "相机", "laptop", "charger", "router", "keyboard",
    ];
    let regions = ["华东", "华南", "华北", "西南", "EU", "US", "JP", "SEA"];
    (0..size)
        .map(|index| {
            let base = &demo[index % demo.len()];
            if index < demo.len() {
                return base.clone();
            }
            let product = products[(index / demo.len()) % products.len()];
            let region = regions[(index / (demo.len() * products.len())) % regions.len()];
            let tag = format!(
                "{product} {region} {}",
                index / (demo.len() * products.len() * regions.len())
            );
            KnowledgeItem {
                id: format!("{}-{index}", base.id),
                category: base.category.clone(),
                question: format!("{} ({tag})", base.question),
                similar: base
                    .similar
                    .iter()
                    .map(|similar| format!("{similar} {tag}"))
                    .collect(),
                answer: base.answer.clone(),
                enabled: true,
            }
        })
        .collect()
}

/// The questions asked: the paraphrase test set (new wordings the robot never indexed).
pub fn queries() -> Vec<String> {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../../core/tests/data/robot_tuning.json"))
            .expect("the paraphrase set parses");
    let mut queries: Vec<String> = data["paraphrases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["q"].as_str().map(str::to_owned))
        .collect();
    queries.extend(
        data["unrelated"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry.as_str().map(str::to_owned)),
    );
    queries
}

/// Builds the index for `size` items and asks every query `rounds` times.
pub fn measure(size: usize, rounds: usize) -> RobotResult {
    let items = knowledge_base(size);
    let started = Instant::now();
    let index = KnowledgeIndex::new(&items);
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let queries = queries();
    let mut latencies_ns = Vec::with_capacity(queries.len() * rounds);
    let started = Instant::now();
    for _ in 0..rounds {
        for query in &queries {
            let asked = Instant::now();
            std::hint::black_box(index.ask(std::hint::black_box(query)));
            latencies_ns.push(asked.elapsed().as_nanos() as u64);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies_ns.sort_unstable();
    let at = |fraction: f64| {
        latencies_ns[((latencies_ns.len() - 1) as f64 * fraction).round() as usize] as f64 / 1000.0
    };
    RobotResult {
        items: size,
        build_ms,
        queries_per_second: latencies_ns.len() as f64 / seconds,
        p50_us: at(0.5),
        p99_us: at(0.99),
    }
}
