"""Synthetic people: Chinese names, 18-digit ID numbers with a valid check digit, mobiles.

All vectorised over numpy; every value is fake (random region/birth/sequence).
"""

from __future__ import annotations

import numpy as np

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红建文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘")
REGIONS = np.array([370102, 370103, 370104, 370105, 370112, 370113, 370124, 370181, 370202, 370203, 370211, 370212,
                    370302, 370303, 370602, 370613, 370702, 370705, 370811, 370902, 371002, 371102, 371302, 371402],
                   dtype=np.int64)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array(list("10X98765432"))


def names(rng: np.random.Generator, n: int) -> np.ndarray:
    s = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.7
    return np.where(two, np.char.add(np.char.add(s, g1), g2), np.char.add(s, g1))


def id_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """18-digit resident ID numbers (GB 11643) with a valid ISO 7064 MOD 11-2 check digit."""
    region = REGIONS[rng.integers(0, len(REGIONS), n)]
    birth = np.datetime64("1950-01-01") + rng.integers(0, 365 * 55, n).astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "").astype(np.int64)
    seq = rng.integers(1, 999, n)
    body = region * 10**11 + ymd * 10**3 + seq  # 17 digits
    digits = (body[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body.astype(str), check)


def id_check_ok(value: str) -> bool:
    if len(value) != 18 or not value[:17].isdigit():
        return False
    s = sum(int(c) * int(w) for c, w in zip(value[:17], _ID_WEIGHTS))
    return value[17].upper() == _ID_CHECK[s % 11]


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 157, 158, 159, 166, 176,
                       177, 180, 181, 182, 186, 187, 188, 189, 191, 199], dtype=np.int64)
    p = prefix[rng.integers(0, len(prefix), n)]
    return (p * 10**8 + rng.integers(0, 10**8, n)).astype(str)
