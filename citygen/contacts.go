package citygen

import (
	"fmt"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
)

// contactLayers are the layers whose features name the duty contact of the
// unit that runs them.
var contactLayers = []string{layers.ProtectiveTarget, layers.Hazard, layers.Bridge}

// contactKey seeds the contacts; it keeps them apart from every stream.
const contactKey = 0xc0a7ac75

// contacts gives each feature of contactLayers a contact and a mobile
// number. Both come from the seed and the feature's id alone, not from a
// stream of the city, so everything else is what it was without them.
func (g *gen) contacts() {
	for _, layer := range contactLayers {
		for _, f := range g.feats[layer] {
			r := rand.New(rand.NewPCG(g.o.Seed^contactKey, f.ID))
			f.Props["contact"] = personName(r)
			f.Props["contact_phone"] = mobileNumber(r)
		}
	}
}

// surnames are common Chinese family names, the most common first and
// repeated so that they come up as often as they do in a city.
var surnames = []string{
	"王", "李", "张", "刘", "陈", "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
	"徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐",
	"许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
	"余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔", "钟",
	"谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "方", "白", "邹", "孟", "熊",
}

// givenChars make given names of one or two characters.
var givenChars = []string{
	"建", "国", "志", "文", "明", "海", "华", "红", "晓", "玉", "春", "永", "金", "德", "立",
	"新", "俊", "宏", "丽", "静", "敏", "伟", "强", "军", "磊", "勇", "杰", "涛", "超", "鹏",
	"辉", "斌", "刚", "波", "燕", "霞", "婷", "慧", "琳", "雪", "梅", "兰", "芳", "娟", "萍",
	"英", "亮", "峰", "林", "浩", "宇", "飞", "平", "东", "秀", "云", "成", "安", "荣", "佳",
}

// personName is a full Chinese name: a surname and one or two characters.
func personName(r *rand.Rand) string {
	name := pick(r, surnames) + pick(r, givenChars)
	if r.IntN(10) < 7 {
		name += pick(r, givenChars)
	}
	return name
}

// mobilePrefixes are the first three digits of mainland mobile numbers.
var mobilePrefixes = []string{
	"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
	"155", "156", "157", "158", "159", "166", "173", "177", "180", "181", "182", "183", "185",
	"186", "187", "188", "189", "191", "198", "199",
}

// mobileNumber is an eleven-digit mobile number.
func mobileNumber(r *rand.Rand) string {
	return fmt.Sprintf("%s%08d", pick(r, mobilePrefixes), r.IntN(100_000_000))
}
