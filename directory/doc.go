// Package directory says who is told what when a warning is published:
// the owning unit (权属单位), the units with assets in the impact area, the
// domain's department (行业主管部门), the district (区政府), emergency
// management (应急管理局) and the domain's experts (专家), as the national
// guide for city safety-risk monitoring platforms has a warning pushed.
//
// A directory is data (directory.json, format in docs/notify.md): units,
// people with their contacts and channels, and which groups are told at
// which level. Read checks a file strictly; Default is the sample city's
// (sample.json, embedded). Resolve turns a warning's domain, owner,
// districts, units in the area and level into recipients, each with the
// reasons they were chosen; Superior is whom to escalate to. Contacts are
// personal data: Masked hides names and phones for a reader without
// contacts.read, by the rule of layers.MaskPersonal.
package directory
