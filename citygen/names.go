package citygen

import "fmt"

// stems are place names that streets, compounds and stations are named after.
var stems = [][2]string{
	{"长江", "Changjiang"}, {"黄山", "Huangshan"}, {"望江", "Wangjiang"}, {"徽州", "Huizhou"}, {"庐州", "Luzhou"},
	{"繁华", "Fanhua"}, {"锦绣", "Jinxiu"}, {"紫云", "Ziyun"}, {"巢湖", "Chaohu"}, {"玉兰", "Yulan"},
	{"香樟", "Xiangzhang"}, {"翡翠", "Feicui"}, {"云谷", "Yungu"}, {"华山", "Huashan"}, {"泰山", "Taishan"},
	{"衡山", "Hengshan"}, {"嵩山", "Songshan"}, {"九华山", "Jiuhuashan"}, {"天柱山", "Tianzhushan"}, {"大别山", "Dabieshan"},
	{"齐云山", "Qiyunshan"}, {"珠江", "Zhujiang"}, {"淮河", "Huaihe"}, {"汾河", "Fenhe"}, {"湘江", "Xiangjiang"},
	{"嘉陵江", "Jialingjiang"}, {"松花江", "Songhuajiang"}, {"锦江", "Jinjiang"}, {"洞庭湖", "Dongtinghu"}, {"鄱阳湖", "Poyanghu"},
	{"太湖", "Taihu"}, {"西湖", "Xihu"}, {"方兴", "Fangxing"}, {"徽园", "Huiyuan"}, {"文忠", "Wenzhong"},
	{"包河", "Baohe"}, {"宁国", "Ningguo"}, {"休宁", "Xiuning"}, {"歙县", "Shexian"}, {"祁门", "Qimen"},
	{"黟县", "Yixian"}, {"绩溪", "Jixi"}, {"桐城", "Tongcheng"}, {"潜山", "Qianshan"}, {"怀宁", "Huaining"},
	{"宿松", "Susong"}, {"广德", "Guangde"}, {"郎溪", "Langxi"}, {"泾县", "Jingxian"}, {"旌德", "Jingde"},
	{"石台", "Shitai"}, {"东至", "Dongzhi"}, {"青阳", "Qingyang"}, {"当涂", "Dangtu"}, {"含山", "Hanshan"},
	{"和县", "Hexian"}, {"无为", "Wuwei"}, {"庐江", "Lujiang"}, {"舒城", "Shucheng"}, {"金寨", "Jinzhai"},
	{"霍山", "Huoshan"}, {"寿县", "Shouxian"}, {"凤台", "Fengtai"}, {"蒙城", "Mengcheng"}, {"利辛", "Lixin"},
	{"涡阳", "Guoyang"}, {"濉溪", "Suixi"}, {"萧县", "Xiaoxian"}, {"砀山", "Dangshan"}, {"灵璧", "Lingbi"},
	{"泗县", "Sixian"}, {"五河", "Wuhe"}, {"固镇", "Guzhen"}, {"怀远", "Huaiyuan"}, {"定远", "Dingyuan"},
	{"凤阳", "Fengyang"}, {"明光", "Mingguang"}, {"天长", "Tianchang"}, {"来安", "Lai'an"}, {"全椒", "Quanjiao"},
}

var ordZh = []string{"", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

func ordEn(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

// streetName names the k-th street of a direction: a stem, an ordinal once
// the stems run out, and a suffix by road class.
func streetName(k int, class string) (string, string) {
	s := stems[k%len(stems)]
	n := k / len(stems)
	sufZh, sufEn := "路", "Road"
	switch class {
	case "expressway":
		sufZh, sufEn = "大道", "Avenue"
	case "branch":
		sufZh, sufEn = "街", "Street"
	}
	if n == 0 {
		return s[0] + sufZh, s[1] + " " + sufEn
	}
	zh := ordZh[n%len(ordZh)]
	if n >= len(ordZh) {
		zh = fmt.Sprint(n + 1)
	}
	return s[0] + zh + sufZh, s[1] + " " + ordEn(n+1) + " " + sufEn
}

var compoundPre = [][2]string{
	{"锦绣", "Jinxiu"}, {"翠园", "Cuiyuan"}, {"金色", "Jinse"}, {"阳光", "Yangguang"}, {"湖畔", "Hupan"},
	{"滨江", "Binjiang"}, {"紫薇", "Ziwei"}, {"华府", "Huafu"}, {"御景", "Yujing"}, {"星河", "Xinghe"},
	{"银杏", "Yinxing"}, {"海棠", "Haitang"}, {"清风", "Qingfeng"}, {"明月", "Mingyue"}, {"春晓", "Chunxiao"},
	{"绿城", "Lücheng"}, {"万象", "Wanxiang"}, {"书香", "Shuxiang"}, {"和园", "Heyuan"}, {"东方", "Dongfang"},
	{"天鹅", "Tian'e"}, {"蓝湾", "Lanwan"}, {"云栖", "Yunqi"}, {"桂苑", "Guiyuan"},
}
var compoundSuf = [][2]string{{"花园", "Garden"}, {"苑", "Court"}, {"小区", "Estate"}, {"家园", "Home"}, {"新村", "New Village"}, {"公馆", "Residence"}}

// compoundName names the k-th residential compound.
func compoundName(k int) (string, string) {
	p := compoundPre[k%len(compoundPre)]
	s := compoundSuf[(k/len(compoundPre)+k)%len(compoundSuf)]
	n := k / (len(compoundPre) * len(compoundSuf))
	zh, en := p[0]+s[0], p[1]+" "+s[1]
	if n > 0 {
		zh += fmt.Sprintf("%d期", n+1)
		en += fmt.Sprintf(" Phase %d", n+1)
	}
	return zh, en
}

var numZh = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// cnNum writes n (1–99) in Chinese numerals.
func cnNum(n int) string {
	switch {
	case n <= 10:
		return numZh[n]
	case n < 20:
		return "十" + numZh[n-10]
	case n < 100 && n%10 == 0:
		return numZh[n/10] + "十"
	case n < 100:
		return numZh[n/10] + "十" + numZh[n%10]
	}
	return fmt.Sprint(n)
}
