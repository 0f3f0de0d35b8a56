"""Development questions for 一句话问数 with gold answers computed by hand-written SQL over the demo
pack (a DuckDB of its CSV files, loaded here independently of the engine). Written by the ask
builder for development; the held-out evaluation set is separate and was never read for tuning.

Each case: (question, gold SQL returning one value | None, expected status). A gold of None with
status "answered" checks the status only (grouped answers are compared by their first row)."""

from __future__ import annotations

ACTIVE = "status IN ('存续', '在业')"

#: (question, gold SQL for the single value or the first row's value, status)
DEV: list[tuple[str, str | None, str]] = [
    # counts with filters and time windows
    ("东湖区3月份有多少工单", "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='donghu' AND created_at >= '2025-03-01' "
     "AND created_at < '2025-04-01'", "answered"),
    ("光谷区今年第二季度的积水投诉有几件", "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='guanggu' AND "
     "category='waterlogging' AND created_at >= '2025-04-01' AND created_at < '2025-07-01'", "answered"),
    ("下半年通过小程序反映的工单数量", "SELECT COUNT(*) FROM hotline_tickets WHERE channel='小程序' AND "
     "created_at >= '2025-07-01'", "answered"),
    ("上个月的12345工单一共多少件", "SELECT COUNT(*) FROM hotline_tickets WHERE created_at >= '2025-11-01' AND "
     "created_at < '2025-12-01'", "answered"),
    ("近3个月未办结的工单有多少", "SELECT COUNT(*) FROM hotline_tickets WHERE status='open' AND "
     "created_at >= '2025-10-01'", "answered"),
    ("2025年9月6日当天的工单量", "SELECT COUNT(*) FROM hotline_tickets WHERE CAST(created_at AS DATE) = '2025-09-06'",
     "answered"),
    ("最近一周的燃气泄漏工单数", "SELECT COUNT(*) FROM hotline_tickets WHERE category='gas_leak' AND "
     "created_at >= '2025-12-25'", "answered"),
    ("水务局承办的工单有多少件", "SELECT COUNT(*) FROM hotline_tickets WHERE department='water'", "answered"),
    ("江滨区噪音扰民的投诉多少起", "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='jiangbin' AND category IN "
     "('construction_noise','neighborhood_noise','industrial_pollution')", "answered"),
    ("how many waterlogging tickets were there in July", "SELECT COUNT(*) FROM hotline_tickets WHERE "
     "category='waterlogging' AND created_at >= '2025-07-01' AND created_at < '2025-08-01'", "answered"),
    # averages and rates
    ("积水类工单的平均办理时长", "SELECT AVG(handling_hours) FROM hotline_tickets WHERE category='waterlogging'",
     "answered"),
    ("上半年热线满意率是多少", "SELECT AVG(satisfied)*100 FROM hotline_tickets WHERE created_at < '2025-07-01'",
     "answered"),
    ("南湖区工单的办结率", "SELECT AVG(CASE WHEN status='closed' THEN 1.0 ELSE 0.0 END)*100 FROM hotline_tickets "
     "WHERE district_id='nanhu'", "answered"),
    ("average handling time of streetlight tickets in Q1", "SELECT AVG(handling_hours) FROM hotline_tickets WHERE "
     "category='streetlight' AND created_at < '2025-04-01'", "answered"),
    ("8月全市AQI平均值", "SELECT AVG(aqi) FROM air_quality_daily WHERE date >= '2025-08-01' AND date < '2025-09-01'",
     "answered"),
    ("东湖梨园站全年PM2.5均值", "SELECT AVG(pm25) FROM air_quality_daily WHERE station_name='东湖梨园'", "answered"),
    ("光谷大道早高峰的平均车速", "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE road_name='光谷大道' AND "
     "hour IN (7,8)", "answered"),
    ("9月6日解放大道的车流量", "SELECT SUM(vehicles) FROM traffic_flow_hourly WHERE road_name='解放大道' AND "
     "date='2025-09-06'", "answered"),
    ("周末沿江大道的总车流量", "SELECT SUM(vehicles) FROM traffic_flow_hourly WHERE road_name='沿江大道' AND "
     "dayofweek(date) IN (0,6)", "answered"),
    ("臭氧最高值是多少", "SELECT MAX(o3) FROM air_quality_daily", "answered"),
    ("北港区空气优良天数", "SELECT COUNT(*) FROM air_quality_daily WHERE district_id='beigang' AND aqi <= 100",
     "answered"),
    ("AQI超过150的站日有多少", "SELECT COUNT(*) FROM air_quality_daily WHERE aqi > 150", "answered"),
    # enterprises (operating firms by default)
    ("高新技术企业有多少家", f"SELECT COUNT(*) FROM enterprises WHERE is_high_tech=1 AND {ACTIVE}", "answered"),
    ("光谷区专精特新企业数量", f"SELECT COUNT(*) FROM enterprises WHERE district_id='guanggu' AND "
     f"is_specialized_sme=1 AND {ACTIVE}", "answered"),
    ("制造业企业2024年营业收入合计", f"SELECT SUM(revenue_2024_10k_yuan) FROM enterprises WHERE "
     f"substr(industry_code,1,1)='C' AND {ACTIVE}", "answered"),
    ("集成电路产业链企业的纳税总额", f"SELECT SUM(tax_2024_10k_yuan) FROM enterprises WHERE chain='集成电路' AND "
     f"{ACTIVE}", "answered"),
    ("注销的企业有多少家", "SELECT COUNT(*) FROM enterprises WHERE status='注销'", "answered"),
    ("注册资本超过1000万元的企业有多少家", f"SELECT COUNT(*) FROM enterprises WHERE registered_capital_10k_yuan > 1000 "
     f"AND {ACTIVE}", "answered"),
    # firms founded in a period: every registration then (a flow), whatever the firm's status now
    ("2025年新成立的企业有多少家", "SELECT COUNT(*) FROM enterprises WHERE founded_date >= '2025-01-01'", "answered"),
    ("从业人数100人以上的企业数", f"SELECT COUNT(*) FROM enterprises WHERE employees >= 100 AND {ACTIVE}", "answered"),
    ("江滨区企业平均从业人数", f"SELECT AVG(employees) FROM enterprises WHERE district_id='jiangbin' AND {ACTIVE}",
     "answered"),
    ("上游环节的企业有多少家", "SELECT COUNT(*) FROM enterprises e JOIN chain_nodes n ON e.chain=n.chain AND "
     f"e.chain_node=n.node WHERE n.position='上游' AND e.{ACTIVE}", "answered"),
    ("how many high-tech firms are in Guanggu", f"SELECT COUNT(*) FROM enterprises WHERE is_high_tech=1 AND "
     f"district_id='guanggu' AND {ACTIVE}", "answered"),
    # districts (the latest year unless told)
    ("光谷区的常住人口", "SELECT resident_population FROM districts WHERE district_id='guanggu' AND year=2025",
     "answered"),
    ("2023年全市GDP", "SELECT SUM(gdp_100m_yuan) FROM districts WHERE year=2023", "answered"),
    ("2025年GDP同比增长多少", "SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year=2025) - SUM(gdp_100m_yuan) FILTER "
     "(WHERE year=2024))*100/SUM(gdp_100m_yuan) FILTER (WHERE year=2024) FROM districts", "answered"),
    ("西城区老龄化率", "SELECT SUM(elderly_65_plus)*100.0/SUM(resident_population) FROM districts WHERE "
     "district_id='xicheng' AND year=2025", "answered"),
    ("东湖区一般公共预算收入", "SELECT general_budget_revenue_100m_yuan FROM districts WHERE district_id='donghu' "
     "AND year=2025", "answered"),
    ("what was the population of Nanhu in 2022", "SELECT resident_population FROM districts WHERE "
     "district_id='nanhu' AND year=2022", "answered"),
    # low-income households (aggregates)
    ("江滨区有多少低保户", "SELECT COUNT(*) FROM low_income_households WHERE district_id='jiangbin'", "answered"),
    ("全市低保保障人数", "SELECT SUM(household_size) FROM low_income_households", "answered"),
    ("有残疾成员的低保家庭有多少户", "SELECT COUNT(*) FROM low_income_households WHERE has_disabled_member=1",
     "answered"),
    # leads and chain map
    ("人工智能产业链的招商线索有几条", "SELECT COUNT(*) FROM investment_leads WHERE chain='人工智能'", "answered"),
    ("来自广东的招商线索融资总额", "SELECT SUM(financing_100m_yuan) FROM investment_leads WHERE province='广东省'",
     "answered"),
    ("生物医药产业链有多少个环节", "SELECT COUNT(*) FROM chain_nodes WHERE chain='生物医药'", "answered"),
    # top-k and "which"
    ("哪个区的工单最多", "SELECT district_id FROM hotline_tickets GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1",
     "answered"),
    ("PM2.5平均浓度最高的站点", "SELECT station_name FROM air_quality_daily GROUP BY 1 ORDER BY AVG(pm25) DESC LIMIT 1",
     "answered"),
    ("工单数量前3的类别", None, "answered"),
    ("车流量最大的道路是哪条", "SELECT road_name FROM traffic_flow_hourly GROUP BY 1 ORDER BY SUM(vehicles) DESC "
     "LIMIT 1", "answered"),
    ("哪个月的工单最多", "SELECT strftime(created_at, '%Y-%m') FROM hotline_tickets GROUP BY 1 ORDER BY COUNT(*) DESC "
     "LIMIT 1", "answered"),
    ("each district's average AQI", None, "answered"),
    ("各区低保户数", None, "answered"),
    ("每月工单数量趋势", None, "answered"),
    # shares, growth, per capita
    ("违法停车占全部工单的比例", "SELECT COUNT(*) FILTER (WHERE category='illegal_parking')*100.0/COUNT(*) FROM "
     "hotline_tickets", "answered"),
    ("东湖区工单占全市的比例", "SELECT COUNT(*) FILTER (WHERE district_id='donghu')*100.0/COUNT(*) FROM "
     "hotline_tickets", "answered"),
    ("高新技术企业占比", f"SELECT COUNT(*) FILTER (WHERE is_high_tech=1)*100.0/COUNT(*) FROM enterprises WHERE {ACTIVE}",
     "answered"),
    ("11月工单环比增长多少", "SELECT (COUNT(*) FILTER (WHERE created_at >= '2025-11-01' AND created_at < '2025-12-01') - "
     "COUNT(*) FILTER (WHERE created_at >= '2025-10-01' AND created_at < '2025-11-01'))*100.0 / COUNT(*) FILTER (WHERE "
     "created_at >= '2025-10-01' AND created_at < '2025-11-01') FROM hotline_tickets", "answered"),
    ("每万人工单数最多的区", "SELECT t.district_id FROM hotline_tickets t JOIN districts d ON d.district_id=t.district_id "
     "AND d.year=2025 GROUP BY 1 ORDER BY COUNT(*)*10000.0/ANY_VALUE(d.resident_population) DESC LIMIT 1", "answered"),
    # found while testing phrasings (each once wrong, now with its gold)
    ("全部登记企业数量（含注销）", "SELECT COUNT(*) FROM enterprises", "answered"),
    ("AQI最低的一天", "SELECT strftime(date, '%Y-%m-%d') FROM air_quality_daily GROUP BY 1 ORDER BY AVG(aqi) LIMIT 1",
     "answered"),
    ("9月建设大道平均每天车流量", "SELECT SUM(vehicles) * 1.0 / COUNT(DISTINCT date) FROM traffic_flow_hourly WHERE "
     "road_name='建设大道' AND date >= '2025-09-01' AND date < '2025-10-01'", "answered"),
    ("光谷区2021年到2025年GDP增长了多少", "SELECT (SUM(gdp_100m_yuan) FILTER (WHERE year=2025) - SUM(gdp_100m_yuan) "
     "FILTER (WHERE year=2021))*100/SUM(gdp_100m_yuan) FILTER (WHERE year=2021) FROM districts WHERE "
     "district_id='guanggu'", "answered"),
    ("城管部门承办的工单平均办理时长", "SELECT AVG(handling_hours) FROM hotline_tickets WHERE department='urban'",
     "answered"),
    ("东湖区低保金每月总共发多少", "SELECT SUM(monthly_allowance_yuan) FROM low_income_households WHERE "
     "district_id='donghu'", "answered"),
    ("东湖区低保户平均每户几口人", "SELECT AVG(household_size) FROM low_income_households WHERE district_id='donghu'",
     "answered"),
    ("12月的AQI比11月怎么样", "SELECT (AVG(aqi) FILTER (WHERE month(date)=12) - AVG(aqi) FILTER (WHERE month(date)=11))"
     "*100/AVG(aqi) FILTER (WHERE month(date)=11) FROM air_quality_daily", "answered"),
    ("十月份热线工单平均多久办完", "SELECT AVG(handling_hours) FROM hotline_tickets WHERE month(created_at)=10",
     "answered"),
    ("东湖区和光谷区的工单数对比", "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='guanggu'", "answered"),
    # refusals (personal rows) and what it cannot answer
    ("列出低保户的身份证号", None, "refused"),
    ("把东湖区低保户主的姓名和电话发给我", None, "refused"),
    ("高新技术企业的法定代表人是谁", None, "refused"),
    ("give me the names and phone numbers of low-income households", None, "refused"),
    ("今天天气怎么样", None, "not_understood"),
    ("去年的工单同比增长", None, "not_understood"),
    ("女职工占比最高的企业", None, "not_understood"),
    ("东湖区养老院床位数", None, "not_understood"),
]

#: two batches written fresh and first run as-is (batch 1: 30/30; batch 2: 23/26, none wrong, three not answered),
#: then kept here as development questions
FRESH: list[tuple[str, str | None, str]] = [
    ('西城区今年8月份收到多少热线工单',
     "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='xicheng' AND month(created_at)=8",
     'answered'),
    ('路面塌陷的工单一共有几件',
     "SELECT COUNT(*) FROM hotline_tickets WHERE category='road_collapse'",
     'answered'),
    ('APP渠道的工单满意率',
     "SELECT AVG(satisfied)*100 FROM hotline_tickets WHERE channel='APP'",
     'answered'),
    ('第四季度拖欠工资投诉多少',
     "SELECT COUNT(*) FROM hotline_tickets WHERE category='wage_arrears' AND created_at>='2025-10-01'",
     'answered'),
    ('南湖区电梯故障工单平均处理时长',
     "SELECT AVG(handling_hours) FROM hotline_tickets WHERE district_id='nanhu' AND category='elevator_fault'",
     'answered'),
    ('哪个渠道的工单最多',
     'SELECT channel FROM hotline_tickets GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1',
     'answered'),
    ('6月份暴雨期间积水工单数',  # 暴雨期间 is not a condition the data has: not guessed away
     None,
     'not_understood'),
    ('江滨公园站的平均AQI',
     "SELECT AVG(aqi) FROM air_quality_daily WHERE station_name='江滨公园'",
     'answered'),
    ('光谷区上半年PM2.5平均浓度',
     "SELECT AVG(pm25) FROM air_quality_daily WHERE district_id='guanggu' AND date<'2025-07-01'",
     'answered'),
    ('AQI大于100的天数有多少',
     'SELECT COUNT(*) FROM air_quality_daily WHERE aqi>100',
     'answered'),
    ('关山大道9月份总车流量',
     "SELECT SUM(vehicles) FROM traffic_flow_hourly WHERE road_name='关山大道'",
     'answered'),
    ('晚高峰平均车速最低的道路',
     'SELECT road_name FROM traffic_flow_hourly WHERE hour IN (17,18) GROUP BY 1 ORDER BY AVG(avg_speed_kmh) LIMIT 1',
     'answered'),
    ('南湖区有多少家企业',
     "SELECT COUNT(*) FROM enterprises WHERE district_id='nanhu' AND status IN ('存续','在业')",
     'answered'),
    ('住宿餐饮业企业数量',
     "SELECT COUNT(*) FROM enterprises WHERE substr(industry_code,1,1)='H' AND status IN ('存续','在业')",
     'answered'),
    ('被吊销的企业有几家',
     "SELECT COUNT(*) FROM enterprises WHERE status='吊销'",
     'answered'),
    ('光电子信息产业链企业2024年营收',
     "SELECT SUM(revenue_2024_10k_yuan) FROM enterprises WHERE chain='光电子信息' AND status IN ('存续','在业')",
     'answered'),
    ('有效专利最多的区',
     "SELECT district_id FROM enterprises WHERE status IN ('存续','在业') GROUP BY 1 ORDER BY SUM(patents) DESC LIMIT 1",
     'answered'),
    ('2021年全市常住人口',
     'SELECT SUM(resident_population) FROM districts WHERE year=2021',
     'answered'),
    ('江滨区2025年财政收入同比增长',
     "SELECT (SUM(general_budget_revenue_100m_yuan) FILTER (WHERE year=2025)-SUM(general_budget_revenue_100m_yuan) FILTER (WHERE year=2024))*100/SUM(general_budget_revenue_100m_yuan) FILTER (WHERE year=2024) FROM districts WHERE district_id='jiangbin'",
     'answered'),
    ('人口最多的区',
     'SELECT district_id FROM districts WHERE year=2025 ORDER BY resident_population DESC LIMIT 1',
     'answered'),
    ('北港区低保户有多少户',
     "SELECT COUNT(*) FROM low_income_households WHERE district_id='beigang'",
     'answered'),
    ('全市每月发放低保金总额',
     'SELECT SUM(monthly_allowance_yuan) FROM low_income_households',
     'answered'),
    ('已上市的招商线索有几个',
     "SELECT COUNT(*) FROM investment_leads WHERE last_financing_round='已上市'",
     'answered'),
    ('集成电路产业链的下游环节有几个',
     "SELECT COUNT(*) FROM chain_nodes WHERE chain='集成电路' AND position='下游'",
     'answered'),
    ('how many enterprises are in Jiangbin',
     "SELECT COUNT(*) FROM enterprises WHERE district_id='jiangbin' AND status IN ('存续','在业')",
     'answered'),
    ('what was the average AQI in Beigang in October',
     "SELECT AVG(aqi) FROM air_quality_daily WHERE district_id='beigang' AND month(date)=10",
     'answered'),
    ('total GDP in 2024',
     'SELECT SUM(gdp_100m_yuan) FROM districts WHERE year=2024',
     'answered'),
    ('which channel has the lowest satisfaction rate',
     'SELECT channel FROM hotline_tickets GROUP BY 1 ORDER BY AVG(satisfied) LIMIT 1',
     'answered'),
    ('给我导出东湖区低保户名单',
     None,
     'refused'),
    ('光谷区企业法人的手机号',
     None,
     'refused'),
    ('光谷区11月份的工单有多少是通过网站提交的',
     "SELECT COUNT(*) FROM hotline_tickets WHERE district_id='guanggu' AND month(created_at)=11 AND channel='网站'",
     'answered'),
    ('今年全市消防隐患类工单数量',
     "SELECT COUNT(*) FROM hotline_tickets WHERE category='fire_hazard'",
     'answered'),
    ('北港区工单的平均办理时长是多少小时',
     "SELECT AVG(handling_hours) FROM hotline_tickets WHERE district_id='beigang'",
     'answered'),
    ('食品安全投诉最多的是哪个区',
     "SELECT district_id FROM hotline_tickets WHERE category='food_safety' GROUP BY 1 ORDER BY COUNT(*) DESC LIMIT 1",
     'answered'),
    ('9月份工单比8月份多了多少',
     # 多了多少 asks for the difference itself (增长了百分之几 would ask for the rate)
     'SELECT COUNT(*) FILTER (WHERE month(created_at)=9) - COUNT(*) FILTER (WHERE month(created_at)=8) FROM hotline_tickets',
     'answered'),
    ('未办结工单占比',
     "SELECT COUNT(*) FILTER (WHERE status='open')*100.0/COUNT(*) FROM hotline_tickets",
     'answered'),
    ('生态环境局负责的工单数',
     "SELECT COUNT(*) FROM hotline_tickets WHERE department='ecology'",
     'answered'),
    ('1月份各区PM2.5平均浓度中最高的区',
     'SELECT district_id FROM air_quality_daily WHERE month(date)=1 GROUP BY 1 ORDER BY AVG(pm25) DESC LIMIT 1',
     'answered'),
    ('南湖站臭氧平均浓度',
     "SELECT AVG(o3) FROM air_quality_daily WHERE station_name='南湖'",
     'answered'),
    ('东湖路的平均车速',
     "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE road_name='东湖路'",
     'answered'),
    ('早高峰车流量最大的道路',
     'SELECT road_name FROM traffic_flow_hourly WHERE hour IN (7,8) GROUP BY 1 ORDER BY SUM(vehicles) DESC LIMIT 1',
     'answered'),
    ('西城区高新技术企业数量',
     "SELECT COUNT(*) FROM enterprises WHERE district_id='xicheng' AND is_high_tech=1 AND status IN ('存续','在业')",
     'answered'),
    ('软件和信息技术服务业企业的从业人数合计',
     "SELECT SUM(employees) FROM enterprises WHERE substr(industry_code,1,1)='I' AND status IN ('存续','在业')",
     'answered'),
    ('应用软件开发行业有多少家企业',
     "SELECT COUNT(*) FROM enterprises WHERE industry_name='应用软件开发' AND status IN ('存续','在业')",
     'answered'),
    ('2024年企业纳税总额',
     "SELECT SUM(tax_2024_10k_yuan) FROM enterprises WHERE status IN ('存续','在业')",
     'answered'),
    ('营收最高的产业链',
     "SELECT chain FROM enterprises WHERE status IN ('存续','在业') AND chain IS NOT NULL GROUP BY 1 ORDER BY SUM(revenue_2024_10k_yuan) DESC LIMIT 1",
     'answered'),
    ('东湖区2023年GDP',
     "SELECT gdp_100m_yuan FROM districts WHERE district_id='donghu' AND year=2023",
     'answered'),
    ('全市65岁以上老年人口占比',
     'SELECT SUM(elderly_65_plus)*100.0/SUM(resident_population) FROM districts WHERE year=2025',
     'answered'),
    ('南湖区常住户数',
     "SELECT households FROM districts WHERE district_id='nanhu' AND year=2025",
     'answered'),
    ('光谷区低保保障人数',
     "SELECT SUM(household_size) FROM low_income_households WHERE district_id='guanggu'",
     'answered'),
    ('2025年新纳入低保的家庭有多少户',
     "SELECT COUNT(*) FROM low_income_households WHERE start_date >= '2025-01-01'",
     'answered'),
    ('融资额最大的招商线索所在省份',
     'SELECT province FROM investment_leads GROUP BY 1 ORDER BY SUM(financing_100m_yuan) DESC LIMIT 1',
     'answered'),
    ('拟新建产能的招商线索有几条',
     "SELECT COUNT(*) FROM investment_leads WHERE expansion_signal='拟新建产能'",
     'answered'),
    ('how many tickets were filed through the mini program',
     "SELECT COUNT(*) FROM hotline_tickets WHERE channel='小程序'",
     'answered'),
    ('average speed on Guanshan Avenue during the evening peak',
     "SELECT AVG(avg_speed_kmh) FROM traffic_flow_hourly WHERE road_name='关山大道' AND hour IN (17,18)",
     'answered'),
    ('列出所有低保户的家庭住址',
     None,
     'refused'),
]
