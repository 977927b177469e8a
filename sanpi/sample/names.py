"""Place names and word lists for synthetic project names.

County/district lists are real administrative facts (county-level divisions of each unit, after
the 2021 changes: 偃师、孟津 became districts of 洛阳, 吉利区 merged into 孟津区). 郑州 also lists
its three functional zones, because city ledgers name them as project locations. 济源示范区 has
no counties, so its towns and sub-districts are used; 航空港区 uses its 办事处.
Project names themselves are invented: place + product/facility + 项目.
"""
from __future__ import annotations

import random

COUNTIES: dict[str, tuple[str, ...]] = {
    "410100": ("中原区", "二七区", "管城回族区", "金水区", "上街区", "惠济区", "中牟县", "巩义市",
               "荥阳市", "新密市", "新郑市", "登封市", "郑东新区", "郑州高新区", "郑州经开区"),
    "410200": ("龙亭区", "顺河回族区", "鼓楼区", "禹王台区", "祥符区", "杞县", "通许县", "尉氏县",
               "兰考县"),
    "410300": ("老城区", "西工区", "瀍河回族区", "涧西区", "偃师区", "孟津区", "洛龙区", "新安县",
               "栾川县", "嵩县", "汝阳县", "宜阳县", "洛宁县", "伊川县"),
    "410400": ("新华区", "卫东区", "石龙区", "湛河区", "宝丰县", "叶县", "鲁山县", "郏县", "舞钢市",
               "汝州市"),
    "410500": ("文峰区", "北关区", "殷都区", "龙安区", "安阳县", "汤阴县", "滑县", "内黄县", "林州市"),
    "410600": ("鹤山区", "山城区", "淇滨区", "浚县", "淇县"),
    "410700": ("红旗区", "卫滨区", "凤泉区", "牧野区", "新乡县", "获嘉县", "原阳县", "延津县",
               "封丘县", "卫辉市", "辉县市", "长垣市"),
    "410800": ("解放区", "中站区", "马村区", "山阳区", "修武县", "博爱县", "武陟县", "温县",
               "沁阳市", "孟州市"),
    "410900": ("华龙区", "清丰县", "南乐县", "范县", "台前县", "濮阳县"),
    "411000": ("魏都区", "建安区", "鄢陵县", "襄城县", "禹州市", "长葛市"),
    "411100": ("源汇区", "郾城区", "召陵区", "舞阳县", "临颍县"),
    "411200": ("湖滨区", "陕州区", "渑池县", "卢氏县", "义马市", "灵宝市"),
    "411300": ("宛城区", "卧龙区", "南召县", "方城县", "西峡县", "镇平县", "内乡县", "淅川县",
               "社旗县", "唐河县", "新野县", "桐柏县", "邓州市"),
    "411400": ("梁园区", "睢阳区", "民权县", "睢县", "宁陵县", "柘城县", "虞城县", "夏邑县", "永城市"),
    "411500": ("浉河区", "平桥区", "罗山县", "光山县", "新县", "商城县", "固始县", "潢川县", "淮滨县",
               "息县"),
    "411600": ("川汇区", "淮阳区", "扶沟县", "西华县", "商水县", "沈丘县", "郸城县", "太康县", "鹿邑县",
               "项城市"),
    "411700": ("驿城区", "西平县", "上蔡县", "平舆县", "正阳县", "确山县", "泌阳县", "汝南县", "遂平县",
               "新蔡县"),
    "419001": ("沁园街道", "济水街道", "北海街道", "天坛街道", "玉泉街道", "克井镇", "五龙口镇",
               "梨林镇", "轵城镇", "承留镇", "坡头镇", "思礼镇", "王屋镇", "下冶镇", "邵原镇"),
    "410173": ("新港办事处", "张庄办事处", "龙王办事处", "八岗办事处", "三官庙办事处", "明港办事处",
               "滨河办事处", "银河办事处"),
}

# A sub-district name reads badly at the head of a project name; the unit's own name is used.
_NAME_PREFIX = {"410173": "航空港区", "419001": "济源"}

# Project name cores per sector code. "{n}" takes an integer from the range, so the same core
# yields many distinct names; cores without "{n}" rely on the place and on 二期/三期 suffixes.
_CORES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "adv_mfg": (
        ("年产{n}万吨高性能铜箔", 1, 30), ("年产{n}万台智能农机装备", 1, 20),
        ("年产{n}万套汽车零部件", 5, 200), ("年产{n}万吨铝精深加工材料", 5, 80),
        ("年产{n}台套盾构及工程机械", 50, 800), ("年产{n}万吨特种钢材", 10, 300),
        ("{n}条智能化生产线技术改造", 2, 16), ("年产{n}万件精密铸锻件", 5, 120),
        ("年产{n}万千瓦高效电机", 10, 500), ("年产{n}万吨绿色建材", 10, 200),
        ("年产{n}万锭高端纺纱", 5, 60), ("年产{n}万吨休闲食品", 1, 50),
        ("年产{n}万吨功能性膜材料", 1, 40), ("年产{n}万套智能家居", 10, 300),
        ("年产{n}万台电梯及配件", 1, 20), ("年产{n}万吨耐火材料", 5, 100),
    ),
    "emerging": (
        ("年产{n}万吨新能源电池材料", 1, 50), ("年产{n}GWh动力电池", 2, 60),
        ("年产{n}万片碳化硅衬底", 5, 120), ("年产{n}吨生物医药原料药", 50, 3000),
        ("年产{n}套氢燃料电池系统", 500, 20000), ("年产{n}GW光伏组件", 1, 20),
        ("年产{n}万吨可降解材料", 1, 30), ("年产{n}万台新能源汽车电驱", 5, 100),
        ("年产{n}万支高端医疗耗材", 100, 5000), ("年产{n}吨超硬材料", 100, 5000),
        ("年产{n}万套储能装备", 1, 50), ("{n}万平方米生物医药产业园", 5, 60),
    ),
    "digital_infra": (
        ("{n}架标准机柜数据中心", 1000, 20000), ("{n}P算力中心", 100, 5000),
        ("{n}个5G基站建设", 300, 5000), ("工业互联网平台", 0, 0),
        ("{n}个公共充电站建设", 20, 600), ("智慧城市运营中心", 0, 0),
        ("千兆光网{n}万户覆盖工程", 5, 80), ("{n}万平方米数字经济产业园", 5, 50),
    ),
    "major_infra": (
        ("{n}公里高速公路改扩建", 10, 160), ("{n}千伏输变电工程", 110, 500),
        ("{n}公里城市快速路", 3, 40), ("{n}万吨级物流枢纽港", 50, 1000),
        ("城市综合管廊{n}公里", 3, 30), ("日处理{n}万吨污水处理厂", 2, 30),
        ("{n}万立方米调蓄水库", 100, 5000), ("{n}公里引水工程", 10, 120),
    ),
    "services": (
        ("{n}万平方米现代物流园", 5, 80), ("{n}万吨冷链物流中心", 1, 30),
        ("{n}万平方米商业综合体", 5, 60), ("文旅康养小镇", 0, 0),
        ("{n}万平方米电商产业园", 2, 30), ("{n}万平方米科创孵化园", 2, 30),
        ("{n}万平方米总部经济园", 3, 40), ("全域旅游服务中心", 0, 0),
    ),
    "livelihood": (
        ("人民医院{n}张床位新院区", 300, 2000), ("{n}个班中学新校区", 24, 96),
        ("{n}套保障性租赁住房", 300, 5000), ("{n}张床位养老服务中心", 100, 1500),
        ("{n}个老旧小区改造", 10, 200), ("集中供热管网{n}公里改造", 10, 150),
        ("职业技术学校{n}万平方米实训基地", 1, 20), ("全民健身中心", 0, 0),
    ),
    "agriculture": (
        ("{n}万亩高标准农田建设", 1, 30), ("年出栏{n}万头生猪养殖", 5, 100),
        ("年产{n}万吨面制品加工", 5, 100), ("{n}万亩优质小麦良种繁育基地", 1, 20),
        ("年加工{n}万吨农产品冷链", 1, 30), ("{n}万亩设施蔬菜产业园", 1, 10),
    ),
    "other": (
        ("{n}平方公里片区综合开发", 1, 20), ("老城区有机更新", 0, 0),
        ("{n}万平方米城中村改造", 10, 200), ("产城融合配套设施", 0, 0),
    ),
}

_PHASES = ("二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期")


def name_prefix(unit_code: str, county: str) -> str:
    return _NAME_PREFIX.get(unit_code, county) if county.endswith(("办事处", "街道")) else county


def project_name(rng: random.Random, unit_code: str, county: str, sector_code: str,
                 taken: set[str]) -> str:
    """A project name unique within `taken` (the unit's names so far); adds it to `taken`."""
    prefix = name_prefix(unit_code, county)
    cores = _CORES[sector_code]
    for _ in range(12):
        core, lo, hi = rng.choice(cores)
        name = f"{prefix}{core.format(n=rng.randint(lo, hi))}项目"
        if name not in taken:
            taken.add(name)
            return name
    # Crowded place/core: later phases of an existing name are still distinct projects.
    for phase in _PHASES:
        candidate = f"{name[:-2]}（{phase}）项目"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise RuntimeError(f"no free project name for {unit_code} {county}")
