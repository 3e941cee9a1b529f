"""A farm of synthetic feeds on loopback: N feeds of M items, English and Chinese,
optional latency, ETag / If-None-Match -> 304, and generations: ``GET /_generation/G``
gives every feed one new entry per generation after the first (the oldest drops off).

Every item is distinct (its own start date and city, its own padding sentences, 1-2 KB
of body): cross-source dedup finds nothing to merge, so a bench measures ingestion,
not dedup's slow paths. Every fourth item is business news the relevance stage drops.

Feeds are spread over several loopback addresses (127.0.0.1, 127.0.0.2, …) so a
per-host limit sees several hosts, as it would on the web. A small asyncio
HTTP/1.1 server with keep-alive: it must not be the bottleneck it measures.

    python bench/farm.py --feeds 1000 --items 20 --latency 0.1 --hosts 16 --port 8800
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import random
from datetime import date, timedelta
from email.utils import formatdate
from xml.sax.saxutils import escape

#: Cities the gazetteer knows (English, Chinese): each event's (start date, city) is its own.
CITIES = (
    ("Beijing", "北京"), ("Shanghai", "上海"), ("Tianjin", "天津"), ("Chongqing", "重庆"),
    ("Shenyang", "沈阳"), ("Harbin", "哈尔滨"), ("Nanjing", "南京"), ("Hangzhou", "杭州"),
    ("Hefei", "合肥"), ("Fuzhou", "福州"), ("Jinan", "济南"), ("Zhengzhou", "郑州"),
    ("Wuhan", "武汉"), ("Changsha", "长沙"), ("Guangzhou", "广州"), ("Chengdu", "成都"),
)  # fmt: skip
TOPICS = (
    ("digital twins and MES", "数字孪生与制造执行系统"),
    ("industrial internet platforms", "工业互联网平台"),
    ("predictive maintenance with machine vision", "基于机器视觉的预测性维护"),
    ("smart factory planning", "智能工厂规划"),
    ("industrial robots and PLC programming", "工业机器人与PLC编程"),
    ("lean production and digital transformation", "精益生产与数字化转型"),
    ("edge computing on the shop floor", "车间边缘计算"),
    ("quality data analytics for Industry 4.0", "工业4.0质量数据分析"),
)
ORGANIZERS = (
    ("the {city} Industrial Park Administrative Committee", "{city}工业园区管委会"),
    ("the {city} Bureau of Industry and Information Technology", "{city}市工业和信息化局"),
    ("the {city} Association of Smart Manufacturing", "{city}智能制造协会"),
    ("the {city} Productivity Promotion Center", "{city}生产力促进中心"),
)
#: Sentences a body is padded with, each filled with the item's own numbers: two items
#: share few of them, so their texts are far apart for the near-duplicate layer.
FILLER_EN = (
    "Trainees spent {a} hours on the line with {b} instructors from partner plants.",
    "The curriculum covered sensor retrofits, data collection and OEE dashboards for {a} cells.",
    "Each team of {b} engineers built a small pilot that ran for {a} minutes without faults.",
    "A case study from a supplier showed scrap falling by {c} percent after {a} weeks.",
    "Participants compared {b} vendors' platforms against a checklist of {a} criteria.",
    "The afternoon lab walked through alarm handling on a line of {a} stations.",
    "Instructors shared {b} templates for work instructions and changeover checklists.",
    "Questions from the floor ran for {a} minutes, mostly on cost and payback in {b} months.",
    "A visit to a nearby plant showed {a} automated guided vehicles feeding {b} lines.",
    "Attendees received a certificate after an exam of {a} questions, pass mark {c} percent.",
    "The organizers said {a} more places would open for the next intake in {b} weeks.",
    "Energy metering on {a} machines cut idle consumption by {c} percent in one quarter.",
    "The workshop paired {b} maintenance technicians with {a} process engineers per group.",
    "Vision inspection caught {a} defects per shift that manual checks had missed.",
    "Trainers demonstrated a scheduling model that balanced {a} orders across {b} shifts.",
    "A panel of {b} plant managers discussed hiring and training for {a} new roles.",
    "The hands-on session used {a} programmable controllers and {b} collaborative robots.",
    "Homework asked each plant to map {a} process steps and mark {b} bottlenecks.",
    "Feedback forms rated the course {c} out of 100 across {a} respondents.",
    "Local suppliers exhibited {b} retrofit kits priced under {a} thousand yuan.",
)
FILLER_ZH = (
    "学员在产线上实训{a}小时，由合作工厂的{b}名讲师指导。",
    "课程涵盖传感器改造、数据采集以及{a}个工位的设备综合效率看板。",
    "每个{b}人小组搭建了一个试点项目，连续运行{a}分钟无故障。",
    "一家供应商的案例显示，{a}周后废品率下降了百分之{c}。",
    "学员对照{a}项指标比较了{b}家厂商的平台方案。",
    "下午的实验课讲解了{a}个工位产线的报警处理流程。",
    "讲师分享了{b}套作业指导书和换型检查表模板。",
    "现场提问持续了{a}分钟，主要关注成本和{b}个月的投资回收期。",
    "参观附近工厂时，学员看到{a}台自动导引车为{b}条产线供料。",
    "学员通过{a}道题的考试后获得结业证书，及格线为{c}分。",
    "主办方表示，{b}周后的下一期将增加{a}个名额。",
    "对{a}台设备加装能耗计量后，一个季度内待机能耗下降百分之{c}。",
    "每组由{b}名维修技师和{a}名工艺工程师组成。",
    "视觉检测每班次发现了{a}处人工检查漏掉的缺陷。",
    "讲师演示了一个在{b}个班次之间平衡{a}张订单的排产模型。",
    "{b}位工厂负责人围绕{a}个新岗位的招聘与培训展开讨论。",
    "实操环节使用了{a}台可编程控制器和{b}台协作机器人。",
    "课后作业要求每家工厂梳理{a}个工序并标出{b}个瓶颈。",
    "反馈问卷显示，{a}名学员对课程的平均评分为{c}分。",
    "本地供应商展出了{b}套售价低于{a}千元的改造套件。",
)
NEWS_EN = (
    "{org} reported quarterly revenue of {a} million yuan, up {c} percent",
    "{org} opened a new warehouse with {a} loading bays",
    "{org} signed a supply contract worth {a} million yuan",
)
NEWS_ZH = (
    "{org}发布季度业绩，营收{a}百万元，同比增长百分之{c}",
    "{org}新建仓库，设有{a}个装卸位",
    "{org}签下价值{a}百万元的供货合同",
)
COMPANIES = (
    ("Huaxin Machine Tools", "华鑫机床"),
    ("Dongfang Bearings", "东方轴承"),
    ("Jinlong Castings", "金龙铸造"),
)
#: Syllables and characters the speakers and their companies are named from: an agenda of
#: such names makes each item's text its own (few shared shingles), as real items are.
SYLLABLES = (
    "an", "bao", "chang", "cheng", "da", "dong", "fang", "feng", "gang", "guo", "hai", "heng",
    "hong", "hua", "jia", "jian", "jin", "kai", "lan", "li", "lin", "long", "mei", "ming",
    "nan", "ning", "peng", "qi", "qing", "rong", "rui", "sheng", "shi", "tai", "tao", "tian",
    "wei", "wen", "xin", "xing", "xu", "yang", "yi", "ying", "yong", "yu", "yuan", "yun",
    "ze", "zhen", "zhi", "zhong",
)  # fmt: skip
SURNAMES = (
    ("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
    ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"), ("Xu", "徐"), ("Sun", "孙"),
    ("Ma", "马"), ("Zhu", "朱"), ("Hu", "胡"), ("Guo", "郭"), ("He", "何"), ("Gao", "高"),
    ("Lin", "林"), ("Luo", "罗"),
)  # fmt: skip
GIVEN_ZH = (
    "安宝昌成达东方峰刚国海恒宏华佳建金凯兰立林龙梅明楠宁"
    "鹏琦青荣瑞盛世泰涛天伟文欣兴旭阳毅英勇宇远云泽振志忠"
)
TRADES = (
    ("Precision", "精密"), ("Machinery", "机械"), ("Electronics", "电子"), ("Motors", "汽车"),
    ("Heavy Industry", "重工"), ("Automation", "自动化"), ("Equipment", "装备"),
    ("Materials", "材料"), ("Instruments", "仪器"), ("Valves", "阀门"), ("Castings", "铸造"),
    ("Optics", "光学"), ("Bearings", "轴承"), ("Plastics", "塑胶"), ("Textiles", "纺织"),
    ("Batteries", "电池"),
)  # fmt: skip
#: Agenda talks: a talk's subject, each with the item's own numbers.
TALKS_EN = (
    "retrofitting {a} legacy machines", "a {a}-station welding cell", "OEE on {a} presses",
    "scheduling {a} orders a day", "vision checks at {a} parts a minute",
    "energy data from {a} meters", "a {a}-robot paint line", "spare parts for {a} spindles",
    "a digital twin of {a} conveyors", "traceability for {a} batches",
)  # fmt: skip
TALKS_ZH = (
    "{a}台老旧设备的改造", "{a}个工位的焊接单元", "{a}台冲压机的设备综合效率",
    "每天{a}张订单的排产", "每分钟{a}件的视觉检测", "{a}块电表的能耗数据",
    "{a}台机器人的喷涂线", "{a}根主轴的备件管理", "{a}条输送线的数字孪生", "{a}个批次的质量追溯",
)  # fmt: skip
#: Bodies are padded to a length drawn from this range (bytes of UTF-8), like real items.
BODY_BYTES = (1000, 2000)
#: Sentences of ``FILLER_EN``/``FILLER_ZH`` in each body (the rest is its agenda).
FILLER_SENTENCES = 3
#: A fixed date so bodies (and ETags) are the same on every run.
PUBLISHED = 1717200000
#: Every fourth item is business news, not a training event (the relevance stage drops it).
NEWS_EVERY = 4


def feed_path(n: int) -> str:
    return f"/feed/{n}.xml"


def feed_url(n: int, *, hosts: int, port: int) -> str:
    return f"http://127.0.0.{1 + n % hosts}:{port}{feed_path(n)}"


def item_text(k: int, zh: bool) -> tuple[str, str]:
    """(title, body) of item number ``k``: a training event with its own start date and city
    (no two items of the farm share both), or now and then a piece of business news."""
    rng = random.Random(k)  # the same bytes on every run
    news = k % NEWS_EVERY == NEWS_EVERY - 1
    city_en, city_zh = CITIES[k % len(CITIES)]
    city = city_zh if zh else city_en
    start = date(2025, 1, 1) + timedelta(days=k // len(CITIES))
    end = start + timedelta(days=1 + k % 3)
    fill = FILLER_ZH if zh else FILLER_EN
    if news:
        company = COMPANIES[k % len(COMPANIES)][zh]
        news = rng.choice(NEWS_ZH if zh else NEWS_EN)
        title = news.format(org=company, a=k % 900 + 100, c=k % 30)
        said = f", the company said in {city} on {start:%B} {start.day}."
        lead = f"{title}。" if zh else f"{title}{said}"
    else:
        topic = TOPICS[(k // len(CITIES)) % len(TOPICS)][zh]
        org = ORGANIZERS[k % len(ORGANIZERS)][zh].format(city=city)
        if zh:
            title = f"{city}举办{topic}智能制造培训班（第{k + 1}期）"
            lead = (
                f"{start.year}年{start.month}月{start.day}日至{end.month}月{end.day}日，"
                f"由{org}主办的{topic}智能制造培训班第{k + 1}期在{city}举行，"
                f"来自{20 + k % 50}家制造企业的工程师参加了培训。"
            )
        else:
            title = f"Smart manufacturing training course on {topic} in {city}, session {k + 1}"
            lead = (
                f"From {start:%B} {start.day} to {end:%B} {end.day}, {start.year}, session {k + 1} "
                f"of a smart manufacturing training course on {topic} was held in {city}, "
                f"organized by {org}. Engineers from {20 + k % 50} factories attended."
            )
    sentences = [lead]
    for template in rng.sample(fill, 0 if news else FILLER_SENTENCES):
        numbers = {"a": rng.randint(3, 400), "b": rng.randint(2, 40), "c": rng.randint(5, 95)}
        sentences.append(template.format(**numbers))
    sep = "" if zh else " "
    body = f"<p>{sep.join(sentences)}</p>"
    target = rng.randint(*BODY_BYTES)
    lines = []
    while len(body.encode()) + sum(len(t.encode()) for t in lines) < target:
        lines.append(f"<li>{_quote(rng, zh) if news else _talk(rng, zh)}</li>")
    heading = ("行情" if zh else "Market notes") if news else ("议程" if zh else "Agenda")
    return title, body + f"<p>{heading}:</p><ul>{''.join(lines)}</ul>"


def _quote(rng: random.Random, zh: bool) -> str:
    """One line of market notes: a company and how its shares or orders moved."""
    trade = rng.choice(TRADES)[zh]
    a, c = rng.randint(3, 400), rng.randint(1, 30)
    if zh:
        company = "".join(rng.choices(GIVEN_ZH, k=2))
        return f"{company}{trade}：订单{a}笔，股价{'上涨' if a % 2 else '下跌'}百分之{c}"
    company = "".join(rng.choices(SYLLABLES, k=2)).capitalize()
    return f"{company} {trade}: {a} orders, shares {'up' if a % 2 else 'down'} {c} percent"


def _talk(rng: random.Random, zh: bool) -> str:
    """One line of an agenda: a time, a speaker, their company and their subject."""
    hour, minute = rng.randint(8, 17), rng.choice((0, 15, 30, 45))
    surname = rng.choice(SURNAMES)[zh]
    trade = rng.choice(TRADES)[zh]
    subject = rng.choice(TALKS_ZH if zh else TALKS_EN).format(a=rng.randint(3, 400))
    if zh:
        given = "".join(rng.choices(GIVEN_ZH, k=2))
        company = "".join(rng.choices(GIVEN_ZH, k=2))
        return f"{hour:02d}:{minute:02d} {company}{trade}{surname}{given}：{subject}"
    given = "".join(rng.choices(SYLLABLES, k=2)).capitalize()
    company = "".join(rng.choices(SYLLABLES, k=2)).capitalize()
    return f"{hour:02d}:{minute:02d} {surname} {given}, {company} {trade}: {subject}"


def entry_number(n: int, j: int, *, feeds: int, items: int) -> int:
    """The item number of feed ``n``'s entry ``j`` (entries ``items``, ``items + 1``… are the
    ones added by later generations): every entry of the farm has its own."""
    if j < items:
        return n * items + j
    return feeds * items + (j - items) * feeds + n


@functools.lru_cache(maxsize=1 << 16)
def entry_xml(n: int, j: int, *, feeds: int, items: int) -> str:
    k = entry_number(n, j, feeds=feeds, items=items)
    title, body = item_text(k, zh=j % 2 == 1)
    # The first entries are dated back from PUBLISHED; each added one is newer than all.
    stamp = PUBLISHED - k * 3600 if j < items else PUBLISHED + (j - items + 1) * 600
    return (
        f"<item><guid>https://farm.example/{n}/{j}</guid>"
        f"<link>https://farm.example/{n}/{j}</link><title>{escape(title)}</title>"
        f"<pubDate>{formatdate(stamp, usegmt=True)}</pubDate>"
        f"<description>{escape(body)}</description></item>"
    )


def feed_body(n: int, items: int, generation: int = 0, *, feeds: int = 1) -> bytes:
    """Feed ``n`` at ``generation``: ``items`` entries, half English, half Chinese, all
    distinct; the same bytes every time. Each generation adds one entry at the top and
    drops the oldest (generation 0 is the farm as it first was)."""
    added = min(generation, items)
    newest = [
        entry_xml(n, j, feeds=feeds, items=items)
        for j in range(items + generation - 1, items + generation - 1 - added, -1)
    ]
    kept = [entry_xml(n, j, feeds=feeds, items=items) for j in range(items - added)]
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Farm feed {n}</title><link>https://farm.example/{n}/</link>"
        f"<description>Synthetic</description>{''.join(newest + kept)}</channel></rss>"
    ).encode()


class Farm:
    """The feeds at the current generation; ``GET /_generation/N`` moves every feed to N."""

    def __init__(self, feeds: int, items: int, latency: float) -> None:
        self.feeds, self.items, self.latency = feeds, items, latency
        self.requests = 0
        self.bodies: dict[str, bytes] = {}
        self.etags: dict[str, str] = {}
        self.generation = -1
        self.set_generation(0)

    def set_generation(self, generation: int) -> None:
        if generation == self.generation:
            return
        self.generation = generation
        self.bodies = {
            feed_path(n): feed_body(n, self.items, generation, feeds=self.feeds)
            for n in range(self.feeds)
        }
        self.etags = {
            p: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for p, b in self.bodies.items()
        }

    def answer(self, path: str, headers: dict[str, str]) -> tuple[str, bytes, str]:
        """(status line, body, extra header lines) for one GET."""
        if path.startswith("/_generation/"):
            self.set_generation(int(path.rsplit("/", 1)[1]))
            return "200 OK", f"generation {self.generation}".encode(), ""
        body = self.bodies.get(path)
        if body is None:
            return "404 Not Found", b"not found", ""
        etag = self.etags[path]
        if headers.get("if-none-match") == etag:
            return "304 Not Modified", b"", f"ETag: {etag}\r\n"
        return "200 OK", body, f"ETag: {etag}\r\nContent-Type: application/rss+xml\r\n"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                self.requests += 1
                if self.latency and not path.startswith("/_"):
                    await asyncio.sleep(self.latency)
                status, body, extra = self.answer(path, headers)
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()


async def serve(feeds: int, items: int, latency: float, hosts: int, port: int) -> None:
    farm = Farm(feeds, items, latency)
    servers = [
        await asyncio.start_server(farm.handle, f"127.0.0.{h}", port, backlog=1024)
        for h in range(1, hosts + 1)
    ]
    print(f"ready {feeds} feeds on {hosts} hosts, port {port}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per response")
    parser.add_argument("--hosts", type=int, default=16)
    parser.add_argument("--port", type=int, default=8800)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.feeds, args.items, args.latency, args.hosts, args.port))


if __name__ == "__main__":
    main()
