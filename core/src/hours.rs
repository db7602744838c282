//! Working hours: is a service rule's schedule open at an instant, and when does it open next.
//!
//! A schedule is written in local wall-clock time of an IANA zone (see
//! [`crate::config::WorkingHours`]) and evaluated for an instant given as unix milliseconds:
//! the instant is converted to the zone's local date and time (always unique), then the
//! date's ranges are checked. That makes DST transitions come out as people expect: "09:00"
//! is 09:00 on the wall clock in summer and in winter.
//!
//! Rules, in the words an operator reads them:
//! * a range belongs to the day it starts on; a range whose end is earlier than its start
//!   (`22:00`–`06:00`) runs into the next day; `24:00` is the end of the day;
//! * an exception replaces the weekly ranges of its date: no ranges is a holiday, ranges are
//!   a special working day; the overnight tail of the day before still applies;
//! * an opening time that falls in a DST gap (02:30 on the spring-forward night) opens at
//!   the first instant after the gap; wall times repeated when clocks fall back are open
//!   both times.
//!
//! The time zone database is bundled in the binary (jiff's `tzdb-bundle-always`), so this
//! module reads no files and works the same in the browser.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use std::collections::BTreeMap;

use crate::config::{ProblemKind, TimeRange, Weekday, WorkingHours};

/// How far [`next_opening`] looks ahead before answering "not within a year".
const LOOKAHEAD_DAYS: i32 = 400;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// One opening range in minutes since local midnight; `to_minute` ≤ `from_minute` means it
/// ends the next day, `to_minute` = 1440 means midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    from_minute: u16,
    to_minute: u16,
}

impl Range {
    fn is_overnight(self) -> bool {
        self.to_minute <= self.from_minute
    }
}

/// A compiled [`WorkingHours`]: the zone loaded and every time parsed. Build it once per
/// configuration when evaluating often; [`is_open_at`] and [`next_opening`] build one per call.
#[derive(Debug, Clone)]
pub struct Schedule {
    zone: TimeZone,
    /// Indexed by days from Monday.
    weekly: [Vec<Range>; 7],
    exceptions: BTreeMap<Date, Vec<Range>>,
}

/// A working-hours definition that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid working hours: {}", .problems.iter().map(|(path, message)| format!("{path}: {message}")).collect::<Vec<_>>().join("; "))]
pub struct HoursError {
    /// (path inside the working hours such as `.weekly[0].from`, message).
    pub problems: Vec<(String, ProblemKind)>,
}

/// Parses `HH:MM` (00:00 to 24:00) into minutes since midnight.
pub fn parse_time_of_day(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2
        || minutes.len() != 2
        || !hours
            .bytes()
            .chain(minutes.bytes())
            .all(|byte| byte.is_ascii_digit())
    {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    match (hours, minutes) {
        (24, 0) => Some(MINUTES_PER_DAY),
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        _ => None,
    }
}

fn parse_range(
    from: &str,
    to: &str,
    path: &str,
    problems: &mut Vec<(String, ProblemKind)>,
) -> Option<Range> {
    let from_minute = parse_time_of_day(from);
    let to_minute = parse_time_of_day(to);
    if from_minute.is_none() || from_minute == Some(MINUTES_PER_DAY) {
        problems.push((
            format!("{path}.from"),
            ProblemKind::InvalidTime {
                value: from.to_owned(),
                latest: "23:59".to_owned(),
            },
        ));
    }
    if to_minute.is_none() {
        problems.push((
            format!("{path}.to"),
            ProblemKind::InvalidTime {
                value: to.to_owned(),
                latest: "24:00".to_owned(),
            },
        ));
    }
    let (from_minute, to_minute) = (from_minute?, to_minute?);
    if from_minute == MINUTES_PER_DAY {
        return None;
    }
    // 00:00 and 24:00 are the same wall time: a range "10:00"–"00:00" means until midnight.
    let to_minute = if to_minute == 0 {
        MINUTES_PER_DAY
    } else {
        to_minute
    };
    if to_minute == from_minute {
        problems.push((
            path.to_owned(),
            ProblemKind::EmptyRange {
                from: from.to_owned(),
                to: to.to_owned(),
            },
        ));
        return None;
    }
    Some(Range {
        from_minute,
        to_minute,
    })
}

fn parse_ranges<'a>(
    ranges: impl Iterator<Item = (&'a str, &'a str)>,
    path: &str,
    problems: &mut Vec<(String, ProblemKind)>,
) -> Vec<Range> {
    let mut parsed: Vec<Range> = ranges
        .enumerate()
        .filter_map(|(index, (from, to))| {
            parse_range(from, to, &format!("{path}[{index}]"), problems)
        })
        .collect();
    parsed.sort_by_key(|range| range.from_minute);
    parsed
}

fn weekday_index(weekday: Weekday) -> usize {
    match weekday {
        Weekday::Mon => 0,
        Weekday::Tue => 1,
        Weekday::Wed => 2,
        Weekday::Thu => 3,
        Weekday::Fri => 4,
        Weekday::Sat => 5,
        Weekday::Sun => 6,
    }
}

impl Schedule {
    /// Compiles working hours, reporting every problem.
    pub fn new(hours: &WorkingHours) -> Result<Schedule, HoursError> {
        let (schedule, problems) = Schedule::compile(hours);
        match schedule {
            Some(schedule) if problems.is_empty() => Ok(schedule),
            _ => Err(HoursError { problems }),
        }
    }

    /// Compiles what can be compiled and lists the rest; `None` only when the zone is unknown.
    fn compile(hours: &WorkingHours) -> (Option<Schedule>, Vec<(String, ProblemKind)>) {
        let mut problems = Vec::new();
        let zone = match TimeZone::get(&hours.time_zone) {
            Ok(zone) => Some(zone),
            Err(_) => {
                problems.push((
                    ".time_zone".to_owned(),
                    ProblemKind::UnknownTimeZone {
                        zone: hours.time_zone.clone(),
                    },
                ));
                None
            }
        };
        let mut weekly: [Vec<Range>; 7] = Default::default();
        for (index, weekly_hours) in hours.weekly.iter().enumerate() {
            let path = format!(".weekly[{index}]");
            if weekly_hours.days.is_empty() {
                problems.push((format!("{path}.days"), ProblemKind::NoDays));
            }
            if let Some(range) =
                parse_range(&weekly_hours.from, &weekly_hours.to, &path, &mut problems)
            {
                for day in &weekly_hours.days {
                    weekly[weekday_index(*day)].push(range);
                }
            }
        }
        for ranges in &mut weekly {
            ranges.sort_by_key(|range| range.from_minute);
        }
        let mut exceptions = BTreeMap::new();
        for (index, exception) in hours.exceptions.iter().enumerate() {
            let path = format!(".exceptions[{index}]");
            let ranges = parse_ranges(
                exception
                    .open
                    .iter()
                    .map(|TimeRange { from, to }| (from.as_str(), to.as_str())),
                &format!("{path}.open"),
                &mut problems,
            );
            match parse_date(&exception.date) {
                Some(date) => {
                    if exceptions.insert(date, ranges).is_some() {
                        problems.push((
                            format!("{path}.date"),
                            ProblemKind::DuplicateDate {
                                date: exception.date.clone(),
                            },
                        ));
                    }
                }
                None => problems.push((
                    format!("{path}.date"),
                    ProblemKind::InvalidDate {
                        value: exception.date.clone(),
                    },
                )),
            }
        }
        (
            zone.map(|zone| Schedule {
                zone,
                weekly,
                exceptions,
            }),
            problems,
        )
    }

    fn ranges_of(&self, date: Date) -> &[Range] {
        match self.exceptions.get(&date) {
            Some(ranges) => ranges,
            None => &self.weekly[date.weekday().to_monday_zero_offset() as usize],
        }
    }

    /// Whether the schedule is open at the instant.
    pub fn is_open_at(&self, unix_ms: i64) -> bool {
        let Some(local) = self.local_date_time(unix_ms) else {
            return false;
        };
        let date = local.date();
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let open_today = self.ranges_of(date).iter().any(|range| {
            minute >= range.from_minute && (range.is_overnight() || minute < range.to_minute)
        });
        let open_from_yesterday = date.yesterday().is_ok_and(|yesterday| {
            self.ranges_of(yesterday)
                .iter()
                .any(|range| range.is_overnight() && minute < range.to_minute)
        });
        open_today || open_from_yesterday
    }

    /// The instant the schedule is next open: `unix_ms` itself when open now, `None` when it
    /// does not open within about a year (or the instant is out of range).
    pub fn next_opening(&self, unix_ms: i64) -> Option<i64> {
        if self.is_open_at(unix_ms) {
            return Some(unix_ms);
        }
        let mut date = self.local_date_time(unix_ms)?.date();
        for _ in 0..LOOKAHEAD_DAYS {
            let opening = self
                .ranges_of(date)
                .iter()
                .flat_map(|range| self.instants_of(date, range.from_minute))
                .filter(|opening| *opening > unix_ms && self.is_open_at(*opening))
                .min();
            if opening.is_some() {
                return opening;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    fn local_date_time(&self, unix_ms: i64) -> Option<DateTime> {
        let timestamp = Timestamp::from_millisecond(unix_ms).ok()?;
        Some(self.zone.to_datetime(timestamp))
    }

    /// The instants of a local wall time: one normally; the first instant after the gap for
    /// a time in a DST gap; both occurrences for a time repeated when clocks fall back (a
    /// range that closed during the first occurrence opens again at the second).
    fn instants_of(&self, date: Date, minute: u16) -> impl Iterator<Item = i64> {
        let local = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        let ambiguous = self.zone.to_ambiguous_timestamp(local);
        let first = ambiguous.compatible().ok();
        let second = ambiguous.later().ok();
        first
            .into_iter()
            .chain(second)
            .map(|timestamp| timestamp.as_millisecond())
    }
}

fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
    if !shape_ok {
        return None;
    }
    let year: i16 = text[0..4].parse().ok()?;
    let month: i8 = text[5..7].parse().ok()?;
    let day: i8 = text[8..10].parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Every problem of a working-hours definition as (path suffix, message), for
/// [`crate::config::Config::validate`].
pub fn check_working_hours(hours: &WorkingHours) -> Vec<(String, ProblemKind)> {
    Schedule::compile(hours).1
}

/// Whether the working hours are open at the instant. Unparseable ranges are ignored and an
/// unknown zone is always closed: validation reports both, and closed is the safe answer
/// (the customer is told, rather than queued for nobody).
pub fn is_open_at(hours: &WorkingHours, unix_ms: i64) -> bool {
    Schedule::compile(hours)
        .0
        .is_some_and(|schedule| schedule.is_open_at(unix_ms))
}

/// When the working hours next open (see [`Schedule::next_opening`]), for the off-hours notice.
pub fn next_opening(hours: &WorkingHours, unix_ms: i64) -> Option<i64> {
    Schedule::compile(hours)
        .0
        .and_then(|schedule| schedule.next_opening(unix_ms))
}

/// An instant as the schedule's wall clock shows it, for a preview such as "opens Monday 09:00".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LocalTime {
    pub weekday: Weekday,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub time: String,
}

/// Where a service rule stands at an instant: open now, or when it opens next in its own
/// zone's wall-clock time (`None`: not within about a year, or the hours do not compile).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpeningPreview {
    pub open: bool,
    pub next_opening: Option<i64>,
    pub next_opening_local: Option<LocalTime>,
}

/// The preview of working hours at `unix_ms` (see [`OpeningPreview`]).
pub fn preview(hours: &WorkingHours, unix_ms: i64) -> OpeningPreview {
    let Some(schedule) = Schedule::compile(hours).0 else {
        return OpeningPreview {
            open: false,
            next_opening: None,
            next_opening_local: None,
        };
    };
    let open = schedule.is_open_at(unix_ms);
    let next_opening = if open {
        None
    } else {
        schedule.next_opening(unix_ms)
    };
    let next_opening_local = next_opening
        .and_then(|at| schedule.local_date_time(at))
        .map(|local| LocalTime {
            weekday: Weekday::ALL[local.date().weekday().to_monday_zero_offset() as usize],
            date: format!(
                "{:04}-{:02}-{:02}",
                local.year(),
                local.month(),
                local.day()
            ),
            time: format!("{:02}:{:02}", local.hour(), local.minute()),
        });
    OpeningPreview {
        open,
        next_opening,
        next_opening_local,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HoursException, WeeklyHours};

    fn weekly(days: &[Weekday], from: &str, to: &str) -> WeeklyHours {
        WeeklyHours {
            days: days.to_vec(),
            from: from.to_owned(),
            to: to.to_owned(),
        }
    }

    fn hours(
        zone: &str,
        weekly: Vec<WeeklyHours>,
        exceptions: Vec<HoursException>,
    ) -> WorkingHours {
        WorkingHours {
            time_zone: zone.to_owned(),
            weekly,
            exceptions,
        }
    }

    /// Unix ms of a local wall time in a zone (compatible disambiguation).
    fn at(zone: &str, text: &str) -> i64 {
        let local: DateTime = text.parse().unwrap();
        TimeZone::get(zone)
            .unwrap()
            .to_timestamp(local)
            .unwrap()
            .as_millisecond()
    }

    fn shanghai_office() -> WorkingHours {
        hours(
            "Asia/Shanghai",
            vec![weekly(&Weekday::WORKDAYS, "09:00", "18:00")],
            vec![],
        )
    }

    #[test]
    fn parses_times_of_day() {
        assert_eq!(parse_time_of_day("00:00"), Some(0));
        assert_eq!(parse_time_of_day("09:30"), Some(570));
        assert_eq!(parse_time_of_day("24:00"), Some(1440));
        for bad in [
            "24:01", "9:00", "09:60", "0900", "ab:cd", "", "+9:00", "09:0０",
        ] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn office_hours_on_weekdays_only() {
        let office = shanghai_office();
        // 2025-06-02 is a Monday.
        assert!(!is_open_at(
            &office,
            at("Asia/Shanghai", "2025-06-02T08:59:59")
        ));
        assert!(is_open_at(&office, at("Asia/Shanghai", "2025-06-02T09:00")));
        assert!(is_open_at(&office, at("Asia/Shanghai", "2025-06-02T17:59")));
        assert!(!is_open_at(
            &office,
            at("Asia/Shanghai", "2025-06-02T18:00")
        ));
        assert!(
            !is_open_at(&office, at("Asia/Shanghai", "2025-06-07T10:00")),
            "Saturday"
        );
        assert!(
            !is_open_at(&office, at("Asia/Shanghai", "2025-06-08T10:00")),
            "Sunday"
        );
    }

    #[test]
    fn the_zone_decides_the_local_time() {
        let office = shanghai_office();
        // 01:30 UTC on a Monday is 09:30 in Shanghai.
        assert!(is_open_at(&office, at("UTC", "2025-06-02T01:30")));
        assert!(!is_open_at(&office, at("UTC", "2025-06-02T10:30")));
    }

    #[test]
    fn overnight_ranges_run_into_the_next_day() {
        let night = hours(
            "Asia/Shanghai",
            vec![weekly(&[Weekday::Fri], "22:00", "06:00")],
            vec![],
        );
        assert!(!is_open_at(&night, at("Asia/Shanghai", "2025-06-06T21:59")));
        assert!(is_open_at(&night, at("Asia/Shanghai", "2025-06-06T23:00")));
        assert!(
            is_open_at(&night, at("Asia/Shanghai", "2025-06-07T05:59")),
            "Saturday morning tail"
        );
        assert!(!is_open_at(&night, at("Asia/Shanghai", "2025-06-07T06:00")));
        assert!(
            !is_open_at(&night, at("Asia/Shanghai", "2025-06-07T23:00")),
            "not on Saturday"
        );
    }

    #[test]
    fn until_midnight_with_24_00_or_00_00() {
        for to in ["24:00", "00:00"] {
            let late = hours(
                "Asia/Shanghai",
                vec![weekly(&[Weekday::Mon], "20:00", to)],
                vec![],
            );
            assert!(is_open_at(&late, at("Asia/Shanghai", "2025-06-02T23:59")));
            assert!(!is_open_at(&late, at("Asia/Shanghai", "2025-06-03T00:00")));
        }
    }

    #[test]
    fn holidays_close_and_special_days_open() {
        let office = hours(
            "Asia/Shanghai",
            vec![weekly(&Weekday::WORKDAYS, "09:00", "18:00")],
            vec![
                HoursException {
                    date: "2025-10-01".to_owned(),
                    open: vec![],
                    note: Some("国庆".to_owned()),
                },
                HoursException {
                    date: "2025-09-28".to_owned(),
                    open: vec![TimeRange {
                        from: "10:00".to_owned(),
                        to: "16:00".to_owned(),
                    }],
                    note: Some("调休上班".to_owned()),
                },
            ],
        );
        assert!(
            !is_open_at(&office, at("Asia/Shanghai", "2025-10-01T10:00")),
            "Wednesday holiday"
        );
        assert!(
            is_open_at(&office, at("Asia/Shanghai", "2025-10-02T10:00")),
            "the day after"
        );
        assert!(
            is_open_at(&office, at("Asia/Shanghai", "2025-09-28T10:00")),
            "Sunday working day"
        );
        assert!(
            !is_open_at(&office, at("Asia/Shanghai", "2025-09-28T09:30")),
            "special hours apply"
        );
    }

    #[test]
    fn new_york_spring_forward_keeps_wall_clock_hours() {
        let office = hours(
            "America/New_York",
            vec![weekly(&Weekday::ALL, "09:00", "17:00")],
            vec![],
        );
        // 2025-03-09: clocks jump from 02:00 to 03:00; 09:00 is 13:00 UTC (EDT) that day,
        // 14:00 UTC (EST) the day before.
        assert!(is_open_at(&office, at("UTC", "2025-03-08T14:00")));
        assert!(!is_open_at(&office, at("UTC", "2025-03-08T13:30")));
        assert!(is_open_at(&office, at("UTC", "2025-03-09T13:00")));
        assert!(!is_open_at(&office, at("UTC", "2025-03-09T12:59")));
    }

    #[test]
    fn an_opening_inside_the_dst_gap_opens_after_the_gap() {
        let early = hours(
            "America/New_York",
            vec![weekly(&Weekday::ALL, "02:30", "05:00")],
            vec![],
        );
        let before = at("UTC", "2025-03-09T05:00"); // 00:00 EST
        let expected = at("UTC", "2025-03-09T07:30"); // 03:30 EDT, right after the gap
        assert_eq!(next_opening(&early, before), Some(expected));
        assert!(is_open_at(&early, expected));
    }

    #[test]
    fn berlin_fall_back_repeats_the_hour_and_stays_open() {
        let night = hours(
            "Europe/Berlin",
            vec![weekly(&Weekday::ALL, "01:00", "04:00")],
            vec![],
        );
        // 2025-10-26: 03:00 CEST becomes 02:00 CET; 02:30 happens twice, open both times.
        assert!(is_open_at(&night, at("UTC", "2025-10-26T00:30"))); // 02:30 CEST
        assert!(is_open_at(&night, at("UTC", "2025-10-26T01:30"))); // 02:30 CET
        assert!(is_open_at(&night, at("UTC", "2025-10-26T02:59"))); // 03:59 CET
        assert!(!is_open_at(&night, at("UTC", "2025-10-26T03:00"))); // 04:00 CET
    }

    #[test]
    fn next_opening_after_hours_on_friday_is_monday_morning() {
        let office = shanghai_office();
        let friday_evening = at("Asia/Shanghai", "2025-06-06T19:00");
        assert_eq!(
            next_opening(&office, friday_evening),
            Some(at("Asia/Shanghai", "2025-06-09T09:00"))
        );
        let open_now = at("Asia/Shanghai", "2025-06-06T10:00");
        assert_eq!(next_opening(&office, open_now), Some(open_now));
        let early = at("Asia/Shanghai", "2025-06-06T07:00");
        assert_eq!(
            next_opening(&office, early),
            Some(at("Asia/Shanghai", "2025-06-06T09:00"))
        );
    }

    #[test]
    fn next_opening_skips_holidays_and_never_opening_is_none() {
        let office = hours(
            "Asia/Shanghai",
            vec![weekly(&Weekday::WORKDAYS, "09:00", "18:00")],
            vec![HoursException {
                date: "2025-06-09".to_owned(),
                open: vec![],
                note: None,
            }],
        );
        let friday_evening = at("Asia/Shanghai", "2025-06-06T19:00");
        assert_eq!(
            next_opening(&office, friday_evening),
            Some(at("Asia/Shanghai", "2025-06-10T09:00"))
        );
        let never = hours("Asia/Shanghai", vec![], vec![]);
        assert_eq!(next_opening(&never, friday_evening), None);
        assert!(!is_open_at(&never, friday_evening));
    }

    #[test]
    fn an_unknown_zone_is_closed_and_reported() {
        let broken = hours(
            "Mars/Olympus",
            vec![weekly(&Weekday::ALL, "00:00", "24:00")],
            vec![],
        );
        assert!(!is_open_at(&broken, 0));
        assert_eq!(next_opening(&broken, 0), None);
        assert!(Schedule::new(&broken).is_err());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let broken = hours(
            "Nowhere/Town",
            vec![
                weekly(&[], "9:00", "25:00"),
                weekly(&[Weekday::Mon], "10:00", "10:00"),
            ],
            vec![HoursException {
                date: "2025-02-30".to_owned(),
                open: vec![],
                note: None,
            }],
        );
        let paths: Vec<String> = check_working_hours(&broken)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        assert_eq!(
            paths,
            vec![
                ".time_zone",
                ".weekly[0].days",
                ".weekly[0].from",
                ".weekly[0].to",
                ".weekly[1]",
                ".exceptions[0].date"
            ]
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        let office = shanghai_office();
        for instant in [i64::MIN, i64::MAX, -62_000_000_000_000, 253_402_300_799_999] {
            let _ = is_open_at(&office, instant);
            let _ = next_opening(&office, instant);
        }
    }

    #[test]
    fn the_preview_says_open_now_or_the_local_day_and_time_of_the_next_opening() {
        let office = shanghai_office();
        // Friday 18:30 in Shanghai: closed; opens Monday 09:00 local time.
        let friday_evening = at("Asia/Shanghai", "2025-06-06T18:30");
        let preview = preview(&office, friday_evening);
        assert!(!preview.open);
        assert_eq!(
            preview.next_opening,
            Some(at("Asia/Shanghai", "2025-06-09T09:00"))
        );
        assert_eq!(
            preview.next_opening_local,
            Some(LocalTime {
                weekday: Weekday::Mon,
                date: "2025-06-09".to_owned(),
                time: "09:00".to_owned()
            })
        );
        let open = super::preview(&office, at("Asia/Shanghai", "2025-06-09T10:00"));
        assert!(open.open && open.next_opening.is_none() && open.next_opening_local.is_none());
        let broken = super::preview(&hours("Mars/Olympus", vec![], vec![]), friday_evening);
        assert!(!broken.open && broken.next_opening_local.is_none());
    }
}
