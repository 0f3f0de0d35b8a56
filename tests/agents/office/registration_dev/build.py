"""Builds the development documents of 收文登记 (the extractor is tuned on these only; the held-out set
`demo/data/eval/office_documents/` is written by someone else and only measured).

Each document is written once as marked-up lines and saved as DOCX (python-docx: the red line as a
paragraph border, a joint issuance's 发文机关标志 as a table, page numbers in the footer, sometimes the
版头 in the page header), as PDF (LibreOffice from that DOCX) or as plain text, with its expected
fields in `index.jsonl`. Run: `.venv/bin/python tests/agents/office/registration_dev/build.py`.

Markers: `@SEP` the red separator line; `@TABLE a|b` a table row (joint 发文机关标志); `@HEADER` the
lines before it go into the page header (DOCX only); `@R text` a right-aligned paragraph.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

HERE = Path(__file__).parent

DOCS: list[dict] = [
    {"id": "d01", "fmt": "docx", "lines": """
000123
@SEP
江城市人民政府办公室文件
江政办发〔2026〕12号
@SEP
江城市人民政府办公室
关于做好2026年汛期城市内涝防范工作的通知
各区人民政府，市政府各部门：
为切实做好今年汛期城市内涝防范工作，保障人民群众生命财产安全，经市人民政府同意，现就有关事项通知如下。
一、加强排水设施巡查。市水务局要组织对易涝点、下水道和井盖开展全面排查，及时清淤疏通。
二、做好应急准备。各区要完善防汛应急预案，落实抢险队伍和物资。
三、及时报送信息。请各单位于2026年4月10日前将防汛责任人名单报送市水务局。
附件：1．江城市2026年易涝点清单
2．防汛责任人名单表
江城市人民政府办公室
2026年3月5日
（此件公开发布）
抄送：市委各部门，市人大常委会办公室，市政协办公室。
江城市人民政府办公室                2026年3月5日印发
""", "expect": {"kind": "通知", "issuer": ["江城市人民政府办公室"], "doc_number": "江政办发〔2026〕12号",
                "title": "江城市人民政府办公室关于做好2026年汛期城市内涝防范工作的通知",
                "recipients": ["各区人民政府", "市政府各部门"], "date": "2026-03-05", "classification": None,
                "urgency": None, "signer": None, "attachments": ["江城市2026年易涝点清单", "防汛责任人名单表"],
                "cc": ["市委各部门", "市人大常委会办公室", "市政协办公室"], "deadline": "2026-04-10",
                "suggested_departments": ["water"]}},
    {"id": "d02", "fmt": "pdf", "lines": """
机密★1年
特急
@TABLE 江城市教育局|文件
@TABLE 江城市财政局|
江教发〔2026〕 8 号
@SEP
江城市教育局 江城市财政局
关于下达2026年义务教育学校校舍维修资金的通知
各区教育局、财政局：
根据省级义务教育经费保障机制有关要求，现将2026年义务教育学校校舍维修资金下达给你们，请按规定用途使用，确保入学前完成维修任务。
各区须于二〇二六年五月三十一日前报送资金使用情况。
附件：2026年义务教育学校校舍维修资金分配表
江城市教育局            江城市财政局
2026年4月2日
抄送：市审计局。
江城市教育局办公室                     2026年4月3日印发
""", "expect": {"kind": "通知", "issuer": ["江城市教育局", "江城市财政局"], "doc_number": "江教发〔2026〕8号",
                "title": "江城市教育局江城市财政局关于下达2026年义务教育学校校舍维修资金的通知",
                "recipients": ["各区教育局", "财政局"], "date": "2026-04-02", "classification": "机密★1年",
                "urgency": "特急", "signer": None, "attachments": ["2026年义务教育学校校舍维修资金分配表"],
                "cc": ["市审计局"], "deadline": "2026-05-31", "suggested_departments": ["education"]}},
    {"id": "d03", "fmt": "txt", "lines": """
江城市生态环境局文件
江环发〔2026〕21号        签发人：朱清泉
@SEP
江城市生态环境局
关于2025年度大气污染防治工作情况的报告
江城市人民政府：
2025年，我局认真落实大气污染防治各项任务，全市空气质量持续改善。现将有关情况报告如下。
一、主要工作。开展工业噪声和餐饮油烟专项整治，查处排污违法案件35件。
二、存在问题。部分区域扬尘管控仍有不足。
特此报告。
江城市生态环境局
二〇二六年一月十五日
（联系人：李明，电话：027-88886666）
江城市生态环境局办公室               2026年1月15日印发
""", "expect": {"kind": "报告", "issuer": ["江城市生态环境局"], "doc_number": "江环发〔2026〕21号",
                "title": "江城市生态环境局关于2025年度大气污染防治工作情况的报告", "recipients": ["江城市人民政府"],
                "date": "2026-01-15", "classification": None, "urgency": None, "signer": "朱清泉",
                "attachments": [], "cc": [], "deadline": None, "suggested_departments": ["ecology"]}},
    {"id": "d04", "fmt": "docx", "lines": """
江城市人民政府办公室
@SEP
@R 江政办函〔2026〕33号
江城市人民政府办公室关于商请协助开展燃气安全专项检查的函
江城市消防救援支队：
为深入排查燃气安全隐患，市政府决定于4月开展燃气安全专项检查。请贵支队派员参加联合检查组，并于2026年3月20日前将参加人员名单函告我办。
请予支持为盼。
江城市人民政府办公室
2026年3月10日
""", "expect": {"kind": "函", "issuer": ["江城市人民政府办公室"], "doc_number": "江政办函〔2026〕33号",
                "title": "江城市人民政府办公室关于商请协助开展燃气安全专项检查的函", "recipients": ["江城市消防救援支队"],
                "date": "2026-03-10", "classification": None, "urgency": None, "signer": None, "attachments": [],
                "cc": [], "deadline": "2026-03-20", "suggested_departments": ["gas", "housing", "fire"]}},
    {"id": "d05", "fmt": "pdf", "lines": """
江城市人民政府常务会议纪要
第5期
江城市人民政府办公室                  2026年2月28日
@SEP
2026年2月26日，市长赵立新主持召开市人民政府第5次常务会议，研究老旧小区改造和垃圾分类等事项。纪要如下：
一、会议原则同意《江城市2026年老旧小区改造实施方案》。由市住房和城乡建设局牵头组织实施。
二、会议要求全面推进生活垃圾分类，市环境卫生管理处要于6月30日前完成分类设施配置。
出席：赵立新、孙文华、陈晓东、王志刚
列席：市政府办公室、市财政局负责同志
分送：市政府各部门，各区人民政府。
""", "expect": {"kind": "纪要", "issuer": ["江城市人民政府"], "doc_number": "第5期",
                "title": "江城市人民政府常务会议纪要", "recipients": [], "date": "2026-02-28", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": [],  # 分送 is a 纪要's distribution, no 抄送
                "deadline": "2026-06-30", "suggested_departments": ["housing", "sanitation"]}},
    {"id": "d06", "fmt": "txt", "lines": """
江城市人力资源和社会保障局
关于开展2026年春季职业技能培训补贴申报工作的通知
各区人力资源和社会保障局，各有关培训机构：
为落实就业优先政策，现就2026年春季职业技能培训补贴申报工作通知如下：请各单位于4月15日前通过系统完成申报。逾期不予受理。
特此通知。
江城市人力资源和社会保障局
2026年3月18日
""", "expect": {"kind": "通知", "issuer": ["江城市人力资源和社会保障局"], "doc_number": None,
                "title": "江城市人力资源和社会保障局关于开展2026年春季职业技能培训补贴申报工作的通知",
                "recipients": ["各区人力资源和社会保障局", "各有关培训机构"], "date": "2026-03-18",
                "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [],
                "deadline": "2026-04-15", "suggested_departments": ["hrss"]}},
    {"id": "d07", "fmt": "docx", "lines": """
秘密
加急
江城市水务局文件
江水发〔2026〕7号              签发人：蒋  涛
@SEP
江城市水务局
关于申请安排城区排水管网
改造专项资金的请示
江城市人民政府：
城区部分排水管网建设年代久远，雨季道路积水和内涝频发。为此，我局拟实施排水管网改造工程，总投资约1.2亿元。恳请市政府安排专项资金予以支持。
妥否，请批示。
附件：1．城区排水管网改造工程项目清单
2．资金测算表
江城市水务局
2026年3月22日
（联系人：王强，电话：027-88001234）
""", "expect": {"kind": "请示", "issuer": ["江城市水务局"], "doc_number": "江水发〔2026〕7号",
                "title": "江城市水务局关于申请安排城区排水管网改造专项资金的请示", "recipients": ["江城市人民政府"],
                "date": "2026-03-22", "classification": "秘密", "urgency": "加急", "signer": "蒋涛",
                "attachments": ["城区排水管网改造工程项目清单", "资金测算表"], "cc": [], "deadline": None,
                "suggested_departments": ["water"]}},
    {"id": "d08", "fmt": "pdf", "lines": """
江城市人民政府文件
江政发〔2026〕3号
@SEP
江城市人民政府
关于同意设立江城市光谷区东湖新城街道的批复
光谷区人民政府：
你区《关于设立东湖新城街道的请示》（光政文〔2026〕5号）收悉。经研究，同意设立东湖新城街道。街道办事处驻东湖新城小区。
此复。
江城市人民政府
2026年1月8日
抄送：市民政局，市自然资源和规划局，市公安局。
江城市人民政府办公室                    2026年1月9日印发
""", "expect": {"kind": "批复", "issuer": ["江城市人民政府"], "doc_number": "江政发〔2026〕3号",
                "title": "江城市人民政府关于同意设立江城市光谷区东湖新城街道的批复", "recipients": ["光谷区人民政府"],
                "date": "2026-01-08", "classification": None, "urgency": None, "signer": None, "attachments": [],
                "cc": ["市民政局", "市自然资源和规划局", "市公安局"], "deadline": None,
                "suggested_departments": ["civil_affairs"]}},
    {"id": "d09", "fmt": "docx", "lines": """
江城市安全生产委员会办公室文件
江安办〔2026〕15号
@SEP
江城市安全生产委员会办公室
关于2026年第一季度安全生产事故情况的通报
各区安全生产委员会，市安委会各成员单位：
2026年第一季度，全市共发生生产安全事故12起，死亡5人。其中，危险化学品事故2起。现将有关情况通报如下。
各单位要深刻吸取事故教训，切实加强安全生产监管。
江城市安全生产委员会办公室
2026年4月8日
抄送：省安全生产委员会办公室，
市委办公室，市人民政府办公室。
江城市安全生产委员会办公室             2026年4月8日印发
""", "expect": {"kind": "通报", "issuer": ["江城市安全生产委员会办公室"], "doc_number": "江安办〔2026〕15号",
                "title": "江城市安全生产委员会办公室关于2026年第一季度安全生产事故情况的通报",
                "recipients": ["各区安全生产委员会", "市安委会各成员单位"], "date": "2026-04-08",
                "classification": None, "urgency": None, "signer": None, "attachments": [],
                "cc": ["省安全生产委员会办公室", "市委办公室", "市人民政府办公室"], "deadline": None,
                "suggested_departments": ["emergency"]}},
    {"id": "d10", "fmt": "txt", "lines": """
江城市人民政府令
第 3 号
《江城市户外广告设置管理办法》已经2026年2月20日市人民政府第4次常务会议通过，现予公布，自2026年5月1日起施行。
市长  赵立新
2026年3月1日
""", "expect": {"kind": "命令（令）", "issuer": ["江城市人民政府"], "doc_number": "第3号", "title": None,
                "recipients": [], "date": "2026-03-01", "classification": None, "urgency": None, "signer": "赵立新",
                "attachments": [], "cc": [], "deadline": None, "suggested_departments": ["urban"]}},
    {"id": "d11", "fmt": "docx", "header": True, "lines": """
江城市市场监督管理局文件
江市监发〔2026〕19号
@HEADER
@SEP
江城市市场监督管理局关于开展校园周边食品安全专项整治的通知
各区市场监督管理局：
为保障学生饮食安全，市局决定在全市开展校园周边食品安全专项整治。重点检查食品经营许可和预包装食品备案情况。
请于2026年6月15日前将整治情况报市局食品经营监管处。
江城市市场监督管理局
2026年4月20日
抄送：市教育局。
江城市市场监督管理局办公室             2026年4月20日印发
""", "expect": {"kind": "通知", "issuer": ["江城市市场监督管理局"], "doc_number": "江市监发〔2026〕19号",
                "title": "江城市市场监督管理局关于开展校园周边食品安全专项整治的通知",
                "recipients": ["各区市场监督管理局"], "date": "2026-04-20", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": ["市教育局"], "deadline": "2026-06-15",
                "suggested_departments": ["market"]}},
    {"id": "d12", "fmt": "pdf", "lines": """
湖北省人民政府办公厅文件
鄂政办发〔2026〕9号
@SEP
湖北省人民政府办公厅
关于进一步做好稳就业工作的意见
各市、州、县人民政府，省政府各部门：
为深入实施就业优先战略，做好高校毕业生、农民工等重点群体就业工作，经省人民政府同意，现提出如下意见。
一、拓宽就业渠道。支持失业登记人员参加职业技能培训，按规定发放失业保险金。
二、强化服务保障。各地要及时兑现社会保险补贴。
湖北省人民政府办公厅
2026年2月12日
（此件公开发布）
""", "expect": {"kind": "意见", "issuer": ["湖北省人民政府办公厅"], "doc_number": "鄂政办发〔2026〕9号",
                "title": "湖北省人民政府办公厅关于进一步做好稳就业工作的意见",
                "recipients": ["各市", "州", "县人民政府", "省政府各部门"], "date": "2026-02-12",
                "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [],
                "deadline": None, "suggested_departments": ["hrss"]}},
    {"id": "d13", "fmt": "docx", "lines": """
@TABLE 江城市卫生健康委员会|文件
@TABLE 江城市医疗保障局|
@TABLE 江城市民政局|
江卫健发〔2026〕11号
@SEP
江城市卫生健康委员会 江城市医疗保障局 江城市民政局
关于推进医养结合服务的决定
各区卫生健康局、医疗保障局、民政局：
为推动养老服务与医疗服务深度融合，决定在全市推进医养结合服务。医保报销按规定执行。
江城市卫生健康委员会 江城市医疗保障局 江城市民政局
2026年5月6日
""", "expect": {"kind": "决定", "issuer": ["江城市卫生健康委员会", "江城市医疗保障局", "江城市民政局"],
                "doc_number": "江卫健发〔2026〕11号",
                "title": "江城市卫生健康委员会江城市医疗保障局江城市民政局关于推进医养结合服务的决定",
                "recipients": ["各区卫生健康局", "医疗保障局", "民政局"], "date": "2026-05-06",
                "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [],
                "deadline": None, "suggested_departments": ["health", "medical_insurance", "civil_affairs"]}},
    {"id": "d14", "fmt": "txt", "lines": """
江城市公安局交通管理支队
通  告
江公交管〔2026〕2号
因光谷大道快速化改造施工，自2026年4月1日起至2026年9月30日止，光谷大道（民族大道至三环线段）实施交通管制。请过往车辆绕行。
特此通告。
江城市公安局交通管理支队
2026年3月25日
""", "expect": {"kind": "通告", "issuer": ["江城市公安局交通管理支队"], "doc_number": "江公交管〔2026〕2号",
                "title": "通告", "recipients": [], "date": "2026-03-25", "classification": None, "urgency": None,
                "signer": None, "attachments": [], "cc": [], "deadline": None,
                "suggested_departments": ["traffic_police"]}},
    {"id": "d15", "fmt": "docx", "lines": """
江城市光谷区人民政府文件
光 政 文 〔 2026 〕 5 号          签发人：刘 洋
@SEP
江城市光谷区人民政府
关于设立东湖新城街道的请示
江城市人民政府：
为适应城市发展需要，提高基层治理水平，我区拟设立东湖新城街道。现将有关情况请示如下。
妥否，请批示。
附件：东湖新城街道区划调整方案
江城市光谷区人民政府
2025年12月26日
""", "expect": {"kind": "请示", "issuer": ["江城市光谷区人民政府"], "doc_number": "光政文〔2026〕5号",
                "title": "江城市光谷区人民政府关于设立东湖新城街道的请示", "recipients": ["江城市人民政府"],
                "date": "2025-12-26", "classification": None, "urgency": None, "signer": "刘洋",
                "attachments": ["东湖新城街道区划调整方案"], "cc": [], "deadline": None,
                "suggested_departments": ["civil_affairs"]}},
    {"id": "d16", "fmt": "pdf", "lines": """
江城市城市管理和综合执法局文件
江城管发〔2026〕6号
@SEP
江城市城市管理和综合执法局
关于印发《江城市门店招牌设置
管理规范》的通知
各区城市管理执法局：
现将《江城市门店招牌设置管理规范》印发给你们，请认真遵照执行。执行中的问题请于2026年7月1日前反馈我局。
附件：江城市门店招牌设置管理规范
江城市城市管理和综合执法局
2026年5月12日
""", "expect": {"kind": "通知", "issuer": ["江城市城市管理和综合执法局"], "doc_number": "江城管发〔2026〕6号",
                "title": "江城市城市管理和综合执法局关于印发《江城市门店招牌设置管理规范》的通知",
                "recipients": ["各区城市管理执法局"], "date": "2026-05-12", "classification": None,
                "urgency": None, "signer": None, "attachments": ["江城市门店招牌设置管理规范"], "cc": [],
                "deadline": "2026-07-01", "suggested_departments": ["urban"]}},
    {"id": "d17", "fmt": "txt", "lines": """
江城市人民政府
公    告
〔2026〕第1号
为加强森林防火工作，根据《森林防火条例》规定，江城市人民政府决定，2026年1月1日至2026年4月30日为全市森林防火戒严期。戒严期内，禁止一切野外用火。
特此公告。
江城市人民政府
二〇二五年十二月二十日
""", "expect": {"kind": "公告", "issuer": ["江城市人民政府"], "doc_number": "〔2026〕第1号", "title": "公告",
                "recipients": [], "date": "2025-12-20", "classification": None, "urgency": None, "signer": None,
                "attachments": [], "cc": [], "deadline": None, "suggested_departments": ["emergency"]}},
    {"id": "d18", "fmt": "docx", "lines": """
江城市住房和城乡建设局
@SEP
@R 江建函〔2026〕14号
江城市住房和城乡建设局关于商请提供施工噪声投诉数据的函
江城市政务服务和数据管理局：
为做好建筑施工噪声治理工作，请贵局协助提供2025年12345热线施工噪声投诉数据，并于3月31日前反馈。
此函。
江城市住房和城乡建设局
2026年3月3日
""", "expect": {"kind": "函", "issuer": ["江城市住房和城乡建设局"], "doc_number": "江建函〔2026〕14号",
                "title": "江城市住房和城乡建设局关于商请提供施工噪声投诉数据的函",
                "recipients": ["江城市政务服务和数据管理局"], "date": "2026-03-03", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": "2026-03-31",
                "suggested_departments": ["data_bureau"]}},
    {"id": "d19", "fmt": "pdf", "lines": """
000045
绝密★长期
特急
江城市防汛抗旱指挥部文件
江汛〔2026〕1号
@SEP
江城市防汛抗旱指挥部
关于启动防汛Ⅳ级应急响应的紧急通知
各区防汛抗旱指挥部，市防汛抗旱指挥部各成员单位：
据市气象局预报，6月18日至20日我市将出现强降雨天气，暴雨预警已发布。市防汛抗旱指挥部决定自2026年6月18日12时起启动防汛Ⅳ级应急响应。请各单位密切关注河道水位和道路积水，做好抢险准备。
江城市防汛抗旱指挥部
2026年6月17日
抄送：省防汛抗旱指挥部。
江城市防汛抗旱指挥部办公室             2026年6月17日印发
""", "expect": {"kind": "通知", "issuer": ["江城市防汛抗旱指挥部"], "doc_number": "江汛〔2026〕1号",
                "title": "江城市防汛抗旱指挥部关于启动防汛Ⅳ级应急响应的紧急通知",
                "recipients": ["各区防汛抗旱指挥部", "市防汛抗旱指挥部各成员单位"], "date": "2026-06-17",
                "classification": "绝密★长期", "urgency": "特急", "signer": None, "attachments": [],
                "cc": ["省防汛抗旱指挥部"], "deadline": None, "suggested_departments": ["water", "meteorology"]}},
    {"id": "d20", "fmt": "docx", "lines": """
江城市文化广电旅游局文件
江文旅发〔2026〕4号
@SEP
江城市文化广电旅游局
关于2026年“五一”假期景区安全工作的通知
各A级旅游景区：
为确保“五一”假期旅游安全，请各景区做好客流管控和人群聚集风险防范。各景区须于4月28日前完成自查，并将自查报告报送我局。
附件：1．景区安全自查表
2．假期值班安排表
3．突发事件应急联系表
江城市文化广电旅游局
2026年4月21日
抄送：市公安局，市应急管理局。
""", "expect": {"kind": "通知", "issuer": ["江城市文化广电旅游局"], "doc_number": "江文旅发〔2026〕4号",
                "title": "江城市文化广电旅游局关于2026年“五一”假期景区安全工作的通知", "recipients": ["各A级旅游景区"],
                "date": "2026-04-21", "classification": None, "urgency": None, "signer": None,
                "attachments": ["景区安全自查表", "假期值班安排表", "突发事件应急联系表"],
                "cc": ["市公安局", "市应急管理局"], "deadline": "2026-04-28",
                "suggested_departments": ["culture_tourism"]}},
    {"id": "d21", "fmt": "txt", "lines": """
江城市医疗保障局 江城市财政局
关于调整城乡居民医保参保缴费标准的通知
江医保发〔2026〕5号
各区医疗保障局、财政局：
根据国家和省有关规定，现就2026年度城乡居民医保参保缴费标准调整有关事项通知如下。个人缴费标准每人每年400元。
江城市医疗保障局
江城市财政局
2026年1月20日
""", "expect": {"kind": "通知", "issuer": ["江城市医疗保障局", "江城市财政局"], "doc_number": "江医保发〔2026〕5号",
                "title": "江城市医疗保障局江城市财政局关于调整城乡居民医保参保缴费标准的通知",
                "recipients": ["各区医疗保障局", "财政局"], "date": "2026-01-20", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": None,
                "suggested_departments": ["medical_insurance"]}},
    {"id": "d22", "fmt": "docx", "lines": """
机密★1年  特急
江城市人民政府文件
江政发〔2026〕第9号
@SEP
江城市人民政府
关于进一步加强城市生命线工程
安全运行监测
工作的意见
各区人民政府，市政府各部门、各直属机构，
各有关企事业单位：
为提升城市燃气、供水、排水、桥梁等生命线工程安全运行水平，现提出如下意见。
一、加强监测预警。市城市燃气管理处、市水务局要于2026年8月31日前完成监测设备安装。
附件：1．江城市城市生命线工程监测点位清单（第一批，共计128个
点位）
2．监测数据共享接口规范
江城市人民政府
2026年7月1日
抄送：市委办公室，市人大常委会办公室，市政协办公室，市中级人民法院，
市人民检察院
江城市人民政府办公室                    2026年7月2日印发
""", "expect": {"kind": "意见", "issuer": ["江城市人民政府"], "doc_number": "江政发〔2026〕9号",
                "title": "江城市人民政府关于进一步加强城市生命线工程安全运行监测工作的意见",
                "recipients": ["各区人民政府", "市政府各部门", "各直属机构", "各有关企事业单位"], "date": "2026-07-01",
                "classification": "机密★1年", "urgency": "特急", "signer": None,
                "attachments": ["江城市城市生命线工程监测点位清单（第一批，共计128个点位）", "监测数据共享接口规范"],
                "cc": ["市委办公室", "市人大常委会办公室", "市政协办公室", "市中级人民法院", "市人民检察院"],
                "deadline": "2026-08-31", "suggested_departments": ["gas", "water"]}},
    {"id": "d23", "fmt": "txt", "lines": """
江城市财政局
江财函〔2026〕18号
江城市财政局关于商请提供2025年度住房公积金缴存数据的函
江城市住房公积金管理中心：
因编制2026年预算需要，请贵中心提供2025年度公积金缴存和公积金提取汇总数据，并于2026年5月20日（星期三）前函复我局。
感谢支持。
江城市财政局    2026年5月6日
""", "expect": {"kind": "函", "issuer": ["江城市财政局"], "doc_number": "江财函〔2026〕18号",
                "title": "江城市财政局关于商请提供2025年度住房公积金缴存数据的函", "recipients": ["江城市住房公积金管理中心"],
                "date": "2026-05-06", "classification": None, "urgency": None, "signer": None, "attachments": [],
                "cc": [], "deadline": "2026-05-20", "suggested_departments": ["hpf"]}},
    {"id": "d24", "fmt": "pdf", "lines": """
江城市人民政府
关于提请审议《江城市城市绿化条例（草案）》的议案
江政议〔2026〕2号
江城市人民代表大会常务委员会：
为加强城市绿化管理，保护绿地和树木，市人民政府起草了《江城市城市绿化条例（草案）》，已经市人民政府常务会议讨论通过，现提请审议。
请审议。
市长  赵立新
2026年4月15日
""", "expect": {"kind": "议案", "issuer": ["江城市人民政府"], "doc_number": "江政议〔2026〕2号",
                "title": "江城市人民政府关于提请审议《江城市城市绿化条例（草案）》的议案",
                "recipients": ["江城市人民代表大会常务委员会"], "date": "2026-04-15", "classification": None,
                "urgency": None, "signer": "赵立新", "attachments": [], "cc": [], "deadline": None,
                "suggested_departments": ["greening"]}},
    {"id": "d25", "fmt": "docx", "lines": """
江城市交通运输局文件
江交发〔2026〕10号          签  发  人：沈建军
@SEP
江城市交通运输局
关于公交线网优化调整情况的报告
江城市人民政府：
2026年上半年，我局完成公交线网优化调整，新开公交线路12条，调整线路20条。道路养护同步推进。
特此报告。
江城市交通运输局
2026年7月10日
""", "expect": {"kind": "报告", "issuer": ["江城市交通运输局"], "doc_number": "江交发〔2026〕10号",
                "title": "江城市交通运输局关于公交线网优化调整情况的报告", "recipients": ["江城市人民政府"],
                "date": "2026-07-10", "classification": None, "urgency": None, "signer": "沈建军", "attachments": [],
                "cc": [], "deadline": None, "suggested_departments": ["transport"]}},
    {"id": "d26", "fmt": "txt", "lines": """
江城市安全生产委员会
会议纪要
〔2026〕3号
江城市安全生产委员会办公室        2026年3月30日
2026年3月28日，市安委会召开全体会议，研究部署安全生产大检查工作。会议议定：一、由市应急管理局牵头，于4月30日前完成危险化学品企业全覆盖检查。二、市消防救援支队负责消防安全检查。
出席：赵立新、冯振宇
分送：市安委会各成员单位。
""", "expect": {"kind": "纪要", "issuer": ["江城市安全生产委员会"], "doc_number": "〔2026〕3号",
                "title": "江城市安全生产委员会会议纪要", "recipients": [], "date": "2026-03-30", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": "2026-04-30",  # 分送: no 抄送
                "suggested_departments": ["emergency", "fire"]}},
    {"id": "d27", "fmt": "docx", "lines": """
@TABLE 江城市民政局|文件
@TABLE 江城市残疾人联合会|
江民发〔2026〕6号
@SEP
江城市民政局 江城市残疾人联合会
关于做好2026年残疾人两项补贴发放工作的通知
各区民政局、残联：
请各区认真做好残疾人补贴发放工作，于2026年6月30日前完成资格复核。
附件：残疾人两项补贴资格复核表
江城市民政局          江城市残疾人联合会
二〇二六年五月十八日
抄送：市财政局。
""", "expect": {"kind": "通知", "issuer": ["江城市民政局", "江城市残疾人联合会"], "doc_number": "江民发〔2026〕6号",
                "title": "江城市民政局江城市残疾人联合会关于做好2026年残疾人两项补贴发放工作的通知",
                "recipients": ["各区民政局", "残联"], "date": "2026-05-18", "classification": None, "urgency": None,
                "signer": None, "attachments": ["残疾人两项补贴资格复核表"], "cc": ["市财政局"], "deadline": "2026-06-30",
                "suggested_departments": ["disabled_federation", "civil_affairs"]}},
    {"id": "d28", "fmt": "txt", "encoding": "gb18030", "lines": """
江 城 市 人 民 政 府 办 公 室  江 城 市 财 政 局 文 件
江 政 办 发 〔 2026 〕 21 号
江 城 市 人 民 政 府 办 公 室  江 城 市 财 政 局 关 于 做 好 2026 年 政 府 信 息 公 开 工 作 的 通 知
各 区 人 民 政 府 ， 市 政 府 各 部 门 ：
请 各 单 位 于 2026 年 9 月 30 日 前 报 送 工 作 情 况 。
江 城 市 人 民 政 府 办 公 室  江 城 市 财 政 局
2026 年 8 月 3 日
""", "expect": {"kind": "通知", "issuer": ["江城市人民政府办公室", "江城市财政局"], "doc_number": "江政办发〔2026〕21号",
                "title": "江城市人民政府办公室江城市财政局关于做好2026年政府信息公开工作的通知",
                "recipients": ["各区人民政府", "市政府各部门"], "date": "2026-08-03", "classification": None,
                "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": "2026-09-30",
                "suggested_departments": []}},
    {"id": "d29", "fmt": "pdf", "lines": """
江城市2025年国民经济和社会发展统计公报
（2026年3月10日）
江城市统计局
2025年，全市地区生产总值同比增长5.8%。常住人口达到320万人。全年新增就业12万人。
""", "expect": {"kind": "公报", "issuer": ["江城市统计局"], "doc_number": None,
                "title": "江城市2025年国民经济和社会发展统计公报", "recipients": [], "date": "2026-03-10",
                "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": None,
                "suggested_departments": ["hrss"]}},
    {"id": "d30", "fmt": "docx", "lines": """
中国共产党江城市第十二届委员会第五次全体会议决议
（2026年1月12日中国共产党江城市第十二届委员会第五次全体会议通过）
全会听取和讨论了市委常委会工作报告，一致同意报告提出的2026年工作安排。全会号召，全市上下要坚定信心，推动高质量发展。
""", "expect": {"kind": "决议", "issuer": ["中国共产党江城市第十二届委员会"], "doc_number": None,
                "title": "中国共产党江城市第十二届委员会第五次全体会议决议", "recipients": [], "date": "2026-01-12",
                "classification": None, "urgency": None, "signer": None, "attachments": [], "cc": [], "deadline": None,
                "suggested_departments": []}},
    {"id": "d31", "fmt": "txt", "lines": """
江城市自然资源和规划局
公  告
2026年第4号
根据《中华人民共和国土地管理法》，江城市自然资源和规划局决定对光谷区东湖新城地块实施土地征收。相关权利人可于2026年5月30日前到光谷区政务服务中心办理补偿登记。
特此公告。
江城市自然资源和规划局
2026年4月28日
""", "expect": {"kind": "公告", "issuer": ["江城市自然资源和规划局"], "doc_number": "2026年第4号", "title": "公告",
                "recipients": [], "date": "2026-04-28", "classification": None, "urgency": None, "signer": None,
                "attachments": [], "cc": [], "deadline": None, "suggested_departments": ["natural_resources"]}},
]


def _border(paragraph: docx.text.paragraph.Paragraph) -> None:
    """The red separator line as a paragraph's bottom border (as Word templates of 公文 draw it)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "12"), ("space", "1"), ("color", "FF0000")):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    ppr.append(borders)


def write_docx(lines: list[str], path: Path, header: bool) -> None:
    document = docx.Document()
    head_lines: list[str] = []
    if header and "@HEADER" in lines:
        cut = lines.index("@HEADER")
        head_lines, lines = lines[:cut], lines[cut + 1:]
    for text in head_lines:
        document.sections[0].header.add_paragraph(text)
    table = None
    for line in lines:
        if line == "@SEP":
            _border(document.add_paragraph())
            table = None
        elif line.startswith("@TABLE "):
            cells = line[7:].split("|")
            if table is None:
                table = document.add_table(rows=0, cols=len(cells))
            row = table.add_row()
            for cell, text in zip(row.cells, cells, strict=True):
                cell.text = text
            if len(table.rows) > 1 and not cells[1]:  # "文件" spans the organs' rows
                table.cell(0, 1).merge(table.cell(len(table.rows) - 1, 1))
                table.cell(0, 1).text = "文件"
        elif line.startswith("@R "):
            document.add_paragraph(line[3:]).alignment = WD_ALIGN_PARAGRAPH.RIGHT
            table = None
        else:
            document.add_paragraph(line)
            table = None
    document.sections[0].footer.add_paragraph("— 1 —")
    document.save(path)


def text_of(lines: list[str]) -> str:
    out = []
    for line in lines:
        if line in ("@SEP", "@HEADER"):
            continue
        if line.startswith("@TABLE "):
            out.append("    ".join(c for c in line[7:].split("|") if c))
        elif line.startswith("@R "):
            out.append(line[3:])
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def main() -> None:
    index = []
    with tempfile.TemporaryDirectory() as tmp:
        for doc in DOCS:
            lines = [ln for ln in doc["lines"].strip().splitlines()]
            name = f"{doc['id']}.{doc['fmt']}"
            if doc["fmt"] == "txt":  # some as pasted from the web: GB18030, CRLF line ends
                encoding = doc.get("encoding", "utf-8")
                newline = "\r\n" if encoding != "utf-8" else "\n"
                (HERE / name).write_bytes(text_of(lines).replace("\n", newline).encode(encoding))
            elif doc["fmt"] == "docx":
                write_docx(lines, HERE / name, doc.get("header", False))
            else:
                source = Path(tmp) / f"{doc['id']}.docx"
                write_docx(lines, source, False)
                subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(HERE), str(source)],
                               check=True, capture_output=True, timeout=120)
            index.append({"id": doc["id"], "path": name, **doc["expect"]})
    with (HERE / "index.jsonl").open("w", encoding="utf-8") as f:
        for row in index:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
