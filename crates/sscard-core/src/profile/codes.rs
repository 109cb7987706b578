//! The code tables of the V2.0 notice that type the coded data items (§8): each table exactly as
//! the notice prints it, cited by its number. Only the small tables are here; an item whose
//! code table is long or lives in another standard (ethnicity GB 3304, occupations, titles,
//! honours, experts) is read and written as its code, unchecked.

/// A code table: the codes a data item may hold and what each means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeTable {
    /// Where the table is: `V2 table 16`, `V2 table B9` ….
    pub source: &'static str,
    /// The table's title in the notice.
    pub title: &'static str,
    /// Every code with its meaning, in the notice's order.
    pub codes: &'static [(&'static str, &'static str)],
}

impl CodeTable {
    /// The meaning of `code`, if the table has it.
    pub fn meaning(&self, code: &str) -> Option<&'static str> {
        self.codes
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, meaning)| *meaning)
    }

    /// The codes, comma-separated (for error messages).
    pub fn list(&self) -> String {
        self.codes
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

const fn table(
    source: &'static str,
    title: &'static str,
    codes: &'static [(&'static str, &'static str)],
) -> CodeTable {
    CodeTable {
        source,
        title,
        codes,
    }
}

/// V2 table 11: card type.
pub static CARD_TYPE: CodeTable = table(
    "V2 table 11",
    "卡的类别代码",
    &[
        ("1", "学龄前儿童卡"),
        ("2", "学生卡"),
        ("3", "成年人卡"),
        ("4", "老年人卡"),
    ],
);

/// V2 table 13: sex (GB 2261.1-2003).
pub static SEX: CodeTable = table(
    "V2 table 13",
    "性别代码",
    &[("1", "男性"), ("2", "女性"), ("9", "未说明性别")],
);

/// V2 table 16: household registration type.
pub static HOUSEHOLD_TYPE: CodeTable = table(
    "V2 table 16",
    "户口类别（户籍地类别）代码",
    &[
        ("10", "非农业户口(城镇)"),
        ("11", "本地非农业户口(本地城镇)"),
        ("12", "外地非农业户口(外地城镇)"),
        ("20", "农业户口(农村)"),
        ("21", "本地农业户口(本地农村)"),
        ("22", "外地农业户口(外地农村)"),
        ("30", "港澳台侨人员"),
        ("31", "香港特别行政区居民"),
        ("32", "澳门特别行政区居民"),
        ("33", "台湾地区居民"),
        ("34", "华侨"),
        ("40", "外国人"),
        ("41", "未取得永久居留权的外国人"),
        ("42", "取得永久居留权的外国人"),
        ("50", "居民户口"),
        ("51", "本地居民户口"),
        ("52", "外地居民户口"),
    ],
);

/// V2 table 17: employment or retirement status.
pub static EMPLOYMENT_STATUS: CodeTable = table(
    "V2 table 17",
    "个人就业或离退休（职）状态代码",
    &[
        ("1", "在业"),
        ("2", "离休"),
        ("3", "退休"),
        ("4", "退职"),
        ("5", "失业"),
        ("6", "无业"),
        ("7", "从未就业"),
        ("8", "其他非在业"),
    ],
);

/// V2 table 18: marital status (GB/T 2261.2-2003).
pub static MARITAL_STATUS: CodeTable = table(
    "V2 table 18",
    "婚姻状况代码",
    &[
        ("1", "未婚"),
        ("2", "已婚"),
        ("3", "丧偶"),
        ("4", "离婚"),
        ("9", "未说明的婚姻状况"),
    ],
);

/// V2 table 19: person identity category (GB/T 2261.4-2003).
pub static IDENTITY_CATEGORY: CodeTable = table(
    "V2 table 19",
    "人员身份类别代码",
    &[
        ("11", "国家公务员"),
        ("12", "参照公务员管理人员"),
        ("13", "专业技术人员"),
        ("17", "职员"),
        ("21", "企业管理人员"),
        ("24", "工人"),
        ("27", "农民"),
        ("31", "学生"),
        ("37", "现役军人"),
        ("51", "自由职业者"),
        ("54", "个体经营者"),
        ("70", "无业人员"),
        ("80", "退（离）休人员"),
        ("90", "其他"),
    ],
);

/// V2 table 20: political status (GB/T 4762-1984).
pub static POLITICAL_STATUS: CodeTable = table(
    "V2 table 20",
    "政治面貌代码",
    &[
        ("01", "中共党员"),
        ("02", "中共预备党员"),
        ("03", "共青团员"),
        ("04", "民革会员"),
        ("05", "民盟盟员"),
        ("06", "民建会员"),
        ("07", "民进会员"),
        ("08", "农工党党员"),
        ("09", "致公党党员"),
        ("10", "九三学社社员"),
        ("11", "台盟盟员"),
        ("12", "无党派民主人士"),
        ("13", "群众"),
    ],
);

/// V2 table 21: education (GB 4658).
pub static EDUCATION: CodeTable = table(
    "V2 table 21",
    "学历代码",
    &[
        ("11", "博士研究生"),
        ("14", "硕士研究生"),
        ("21", "大学本科"),
        ("31", "大学专科"),
        ("41", "中等专科"),
        ("44", "职业高中"),
        ("47", "技工学校"),
        ("61", "普通高中"),
        ("71", "初级中学"),
        ("81", "小学"),
        ("90", "其他"),
    ],
);

/// V2 table 22: professional title level (GB/T 12407-2008).
pub static TITLE_LEVEL: CodeTable = table(
    "V2 table 22",
    "专业技术职务级别代码",
    &[
        ("410", "高级"),
        ("411", "正高级"),
        ("412", "副高级"),
        ("420", "中级"),
        ("430", "初级"),
        ("434", "助理级"),
        ("435", "员级"),
        ("499", "未定职级"),
    ],
);

/// V2 table 29: type of employment assistance.
pub static ASSISTANCE_TYPE: CodeTable = table(
    "V2 table 29",
    "认定为就业援助对象类型代码",
    &[
        ("010", "国企下岗失业人员"),
        ("020", "国企关闭破产安置人员"),
        ("030", "集体企业下岗职工"),
        ("040", "享受低保的长期失业人员"),
        ("050", "大龄就业困难人员"),
        ("060", "残疾人"),
        ("070", "零就业家庭成员"),
        ("990", "其他"),
    ],
);

/// V2 table 30: employment support policy.
pub static SUPPORT_POLICY: CodeTable = table(
    "V2 table 30",
    "享受就业扶持政策类型代码",
    &[
        ("010", "公益性岗位补贴"),
        ("020", "社会保险补贴"),
        ("030", "职业介绍补贴"),
        ("040", "职业培训补贴"),
        ("050", "职业技能鉴定补贴"),
        ("060", "税收优惠政策"),
        ("061", "个体经营税收政策"),
        ("062", "企业吸纳税收政策"),
        ("070", "行政事业性收费减免政策"),
        ("080", "小额担保贷款贴息政策"),
        ("990", "其他就业扶持政策"),
    ],
);

/// V2 table 31: appraisal (confirmation) item.
pub static APPRAISAL_ITEM: CodeTable = table(
    "V2 table 31",
    "申请鉴定（确认）事项代码",
    &[
        ("10", "工伤职工劳动能力鉴定"),
        ("20", "工伤职工延长停工留薪期确认"),
        ("30", "工伤职工配置辅助器具确认"),
        ("40", "工伤职工康复性治疗确认"),
        ("50", "工伤职工工伤直接导致疾病确认"),
        ("60", "工伤职工旧伤复发确认"),
        ("70", "工伤职工其他确认事项"),
        ("80", "因工死亡职工供养亲属劳动能力鉴定"),
        ("90", "因病或非因工负伤职工劳动能力鉴定"),
    ],
);

/// V2 table 32: disability grade (GB/T 16180-2006).
pub static DISABILITY_GRADE: CodeTable = table(
    "V2 table 32",
    "伤残等级代码",
    &[
        ("01", "伤残一级"),
        ("02", "伤残二级"),
        ("03", "伤残三级"),
        ("04", "伤残四级"),
        ("05", "伤残五级"),
        ("06", "伤残六级"),
        ("07", "伤残七级"),
        ("08", "伤残八级"),
        ("09", "伤残九级"),
        ("10", "伤残十级"),
        ("11", "未达等级"),
    ],
);

/// V2 table 33: self-care impairment grade.
pub static SELF_CARE_GRADE: CodeTable = table(
    "V2 table 33",
    "生活自理障碍等级代码",
    &[
        ("1", "生活完全不能自理"),
        ("2", "生活大部分不能自理"),
        ("3", "生活部分不能自理"),
        ("4", "未达等级"),
    ],
);

/// V2 table 34: conclusion on the loss of working ability.
pub static WORK_ABILITY_CONCLUSION: CodeTable = table(
    "V2 table 34",
    "丧失劳动能力鉴定结论代码",
    &[("0", "未完全丧失"), ("1", "完全丧失")],
);

/// V2 table 35: conclusion of a confirmation.
pub static CONFIRMATION_CONCLUSION: CodeTable = table(
    "V2 table 35",
    "确认事项结论代码",
    &[("0", "不通过"), ("1", "通过")],
);

/// V2 table 36: pension insurance type.
pub static PENSION_TYPE: CodeTable = table(
    "V2 table 36",
    "养老保险险种类型代码",
    &[
        ("110", "城镇企业职工基本养老保险"),
        ("120", "机关事业单位养老保险"),
        ("150", "新型农村社会养老保险"),
        ("160", "城镇居民社会养老保险"),
        ("170", "城乡居民社会养老保险"),
    ],
);

/// V2 table 37: unemployed spouse of an employee.
pub static UNEMPLOYED_SPOUSE: CodeTable = table(
    "V2 table 37",
    "职工未就业配偶标识代码",
    &[("0", "否"), ("1", "是")],
);

/// V2 table 38: work-injury recognition conclusion.
pub static INJURY_CONCLUSION: CodeTable = table(
    "V2 table 38",
    "工伤认定结论代码",
    &[
        ("1", "工伤"),
        ("2", "视同工伤"),
        ("3", "不属于工伤"),
        ("4", "不视同工伤"),
    ],
);

/// V2 table 39: insurance type of a dependant's benefit.
pub static DEPENDANT_INSURANCE: CodeTable = table(
    "V2 table 39",
    "供养险种类型代码",
    &[
        ("110", "城镇企业职工基本养老保险"),
        ("120", "机关事业单位养老保险"),
        ("150", "新型农村社会养老保险"),
        ("160", "城镇居民社会养老保险"),
        ("170", "城乡居民社会养老保险"),
        ("410", "工伤保险"),
    ],
);

/// V2 table 40: relation to the insured person (after GB/T 4761-2008).
pub static DEPENDANT_RELATION: CodeTable = table(
    "V2 table 40",
    "供养关系代码",
    &[
        ("1", "配偶"),
        ("2", "子女"),
        ("4", "孙子、孙女或外孙子、外孙女"),
        ("5", "父母"),
        ("6", "祖父母或外祖父母"),
        ("7", "兄、弟、姐、妹"),
    ],
);

/// V2 table 41: insurance type of an insurance certificate.
pub static INSURANCE_TYPE: CodeTable = table(
    "V2 table 41",
    "险种类型代码",
    &[
        ("110", "城镇企业职工基本养老保险"),
        ("120", "机关事业单位养老保险"),
        ("150", "新型农村社会养老保险"),
        ("160", "城镇居民社会养老保险"),
        ("170", "城乡居民社会养老保险"),
        ("210", "失业保险"),
        ("310", "职工基本医疗保险"),
        ("380", "新型农村合作医疗"),
        ("390", "城乡居民基本医疗保险"),
        ("391", "城镇居民基本医疗保险"),
        ("410", "工伤保险"),
        ("510", "生育保险"),
    ],
);

/// V2 table 48: category of the medically insured person.
pub static MEDICAL_CATEGORY: CodeTable = table(
    "V2 table 48",
    "医疗保险参保人员类别代码",
    &[
        ("11", "在职"),
        ("21", "退休"),
        ("22", "退休易地安置"),
        ("31", "离休"),
        ("32", "老红军"),
        ("33", "二等乙级以上革命伤残军人"),
        ("34", "医疗照顾人员"),
        ("91", "其他人员"),
    ],
);

/// V2 table 49: how the card is used for medical insurance.
pub static MEDICAL_CARD_USE: CodeTable = table(
    "V2 table 49",
    "医疗保险用卡方式代码",
    &[("1", "联网处理方式"), ("2", "脱网处理方式")],
);

/// V2 table 50: offline settlement allowed.
pub static OFFLINE_ALLOWED: CodeTable = table(
    "V2 table 50",
    "准许脱网医保结算标识代码",
    &[("0", "否"), ("1", "是")],
);

/// V2 table 51: medical transaction type.
pub static TRANSACTION_TYPE: CodeTable = table(
    "V2 table 51",
    "交易类型代码",
    &[("1", "账户划入"), ("2", "医疗结算")],
);

/// V2 table 52: special settlement type.
pub static SETTLEMENT_TYPE: CodeTable = table(
    "V2 table 52",
    "结算类别代码",
    &[
        ("1", "工伤医疗"),
        ("2", "生育医疗"),
        ("3", "医疗救助"),
        ("9", "其他"),
    ],
);

/// V2 table 54: level of an honorary title.
pub static HONOUR_LEVEL: CodeTable = table(
    "V2 table 54",
    "荣誉称号级别代码",
    &[
        ("0", "国家级荣誉称号"),
        ("1", "省(自治区、直辖市)级荣誉称号"),
        ("3", "部(委)级荣誉称号"),
        ("5", "地(市、厅、局)级荣誉称号"),
        ("6", "区(县、局)级荣誉称号"),
        ("7", "基层单位荣誉称号"),
        ("8", "国际国外荣誉称号"),
    ],
);

/// V2 table 55: medal.
pub static MEDAL: CodeTable = table(
    "V2 table 55",
    "荣誉奖章名称代码",
    &[
        ("901", "“两弹一星”功勋奖章"),
        ("902", "航天功勋奖章"),
        ("911", "五一劳动奖章"),
        ("912", "一级英雄模范奖章"),
        ("913", "二级英雄模范奖章"),
        ("914", "一等功奖章"),
        ("915", "二等功奖章"),
        ("916", "三等功奖章"),
        ("920", "优秀毕业生奖章"),
        ("921", "中国青年五四奖章"),
        ("922", "雏鹰奖章"),
    ],
);

/// V2 table 57: resettlement of a demobilised officer.
pub static RESETTLEMENT: CodeTable = table(
    "V2 table 57",
    "安置方式代码",
    &[
        ("1", "计划分配"),
        ("2", "自主择业"),
        ("3", "复员改转业"),
        ("9", "其他"),
    ],
);

/// V2 table B9 (appendix B, informative): health status (GB/T 2261.3-2003).
pub static HEALTH_STATUS: CodeTable = table(
    "V2 table B9",
    "健康状况代码",
    &[
        ("1", "健康或良好"),
        ("2", "一般或较弱"),
        ("3", "有慢性病"),
        ("4", "残疾"),
    ],
);

/// V2 table B10 (appendix B, informative): disability category.
pub static DISABILITY_CATEGORY: CodeTable = table(
    "V2 table B10",
    "残疾状况代码",
    &[
        ("1", "视力残疾"),
        ("2", "听力残疾"),
        ("3", "言语残疾"),
        ("4", "肢体残疾"),
        ("5", "智力残疾"),
        ("6", "精神残疾"),
        ("7", "多重残疾"),
        ("9", "其他残疾"),
    ],
);

/// V2 table B11 (appendix B, informative): disability level (GB/T 26341-2010).
pub static DISABILITY_LEVEL: CodeTable = table(
    "V2 table B11",
    "残疾等级代码",
    &[
        ("1", "残疾一级"),
        ("2", "残疾二级"),
        ("3", "残疾三级"),
        ("4", "残疾四级"),
    ],
);

/// V2 table B12 (appendix B, informative): Rh blood group.
pub static RH_BLOOD_GROUP: CodeTable = table(
    "V2 table B12",
    "Rh 血型代码",
    &[("01", "Rh 阴性"), ("02", "Rh 阳性"), ("03", "不详")],
);

/// V2 tables B13-B25 (appendix B, informative): the medical warning flags (asthma … mental
/// illness), all with the same three codes.
pub static MEDICAL_FLAG: CodeTable = table(
    "V2 tables B13-B25",
    "医学警示标志代码",
    &[("0", "无"), ("1", "有"), ("2", "不详")],
);

/// V2 table B26 (appendix B, informative): the form of social assistance (社会救助代码,
/// B4.2.1.3).
pub static SOCIAL_ASSISTANCE: CodeTable = table(
    "V2 table B26",
    "社会救助代码",
    &[
        ("01", "城市最低生活保障"),
        ("02", "农村最低生活保障"),
        ("03", "农村五保供养"),
        ("04", "城乡医疗救助"),
        ("09", "其他社会救助"),
    ],
);

/// V2 table B27 (appendix B, informative): the form of special care and pension (优待抚恤代码,
/// B4.2.2.3).
pub static SPECIAL_CARE: CodeTable = table(
    "V2 table B27",
    "优待抚恤代码",
    &[
        ("01", "义务兵及其家属优待金"),
        ("02", "定期抚恤金"),
        ("03", "生活补助"),
        ("04", "伤残抚恤金和伤残保健金"),
    ],
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_meanings_found() {
        for t in [
            &HOUSEHOLD_TYPE,
            &EMPLOYMENT_STATUS,
            &MARITAL_STATUS,
            &IDENTITY_CATEGORY,
            &POLITICAL_STATUS,
            &EDUCATION,
            &TITLE_LEVEL,
            &INSURANCE_TYPE,
            &MEDAL,
            &SOCIAL_ASSISTANCE,
            &SPECIAL_CARE,
        ] {
            let mut codes: Vec<&str> = t.codes.iter().map(|(c, _)| *c).collect();
            let n = codes.len();
            codes.sort_unstable();
            codes.dedup();
            assert_eq!(codes.len(), n, "{}", t.source);
            // every code of a table has the same width
            assert!(
                codes.iter().all(|c| c.len() == codes[0].len()),
                "{}",
                t.source
            );
        }
        assert_eq!(
            HOUSEHOLD_TYPE.meaning("11"),
            Some("本地非农业户口(本地城镇)")
        );
        assert_eq!(MARITAL_STATUS.meaning("9"), Some("未说明的婚姻状况"));
        assert_eq!(MARITAL_STATUS.meaning("5"), None);
        assert_eq!(SEX.list(), "1, 2, 9");
        assert_eq!(SOCIAL_ASSISTANCE.list(), "01, 02, 03, 04, 09");
        assert_eq!(SPECIAL_CARE.meaning("04"), Some("伤残抚恤金和伤残保健金"));
    }
}
