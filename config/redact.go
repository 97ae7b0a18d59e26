package config

import (
	"bytes"
	"fmt"
	"net/url"
	"reflect"

	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
)

// secretMark is what every secret reads as in Redacted output.
const secretMark = "<secret>"

// Redacted returns the effective config as YAML with every secret shown as <secret>:
// the credentials of each http_config and the password of any URL. It is safe to log and
// to show in the UI. It does not rely on prometheus/common's Secret marshalling alone,
// because its package-level MarshalSecretValue switch could be turned on elsewhere.
func (c *Config) Redacted() string {
	if c == nil {
		return ""
	}
	cp := redactCopy(reflect.ValueOf(*c), nil).Interface().(Config)
	for i := range cp.Metrics.Sources {
		cp.Metrics.Sources[i].URL = redactURL(cp.Metrics.Sources[i].URL)
	}
	for i := range cp.Alerts.Alertmanagers {
		for j, u := range cp.Alerts.Alertmanagers[i].URLs {
			cp.Alerts.Alertmanagers[i].URLs[j] = redactURL(u)
		}
	}
	for i := range cp.Alerts.Streams {
		cp.Alerts.Streams[i].URL = redactURL(cp.Alerts.Streams[i].URL)
	}
	for i := range cp.Runbooks.URLMap {
		cp.Runbooks.URLMap[i].Prefix = redactURL(cp.Runbooks.URLMap[i].Prefix)
	}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&cp); err != nil {
		return fmt.Sprintf("# cannot print the config: %v\n", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Sprintf("# cannot print the config: %v\n", err)
	}
	return b.String()
}

// hasInlineSecret reports whether the config holds a secret itself rather than naming a
// file that holds it.
func (c *Config) hasInlineSecret() bool {
	n := 0
	redactCopy(reflect.ValueOf(*c), &n)
	for _, s := range c.Metrics.Sources {
		if urlHasPassword(s.URL) {
			n++
		}
	}
	for _, am := range c.Alerts.Alertmanagers {
		for _, u := range am.URLs {
			if urlHasPassword(u) {
				n++
			}
		}
	}
	for _, s := range c.Alerts.Streams {
		if urlHasPassword(s.URL) {
			n++
		}
	}
	return n > 0
}

// redactCopy deep-copies v with every non-empty commoncfg.Secret replaced by <secret>,
// counting them in *found when found is not nil. Being generic, it also covers the
// secrets prometheus/common adds in later versions.
func redactCopy(v reflect.Value, found *int) reflect.Value {
	t := v.Type()
	if t == secretType {
		if v.String() == "" {
			return v
		}
		if found != nil {
			*found++
		}
		return reflect.ValueOf(commoncfg.Secret(secretMark))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(t.Elem())
		n.Elem().Set(redactCopy(v.Elem(), found))
		return n
	case reflect.Struct:
		n := reflect.New(t).Elem()
		n.Set(v) // unexported fields (never marshalled) come along as they are
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				n.Field(i).Set(redactCopy(v.Field(i), found))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(redactCopy(v.Index(i), found))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			n.SetMapIndex(it.Key(), redactCopy(it.Value(), found))
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(t).Elem()
		n.Set(redactCopy(v.Elem(), found))
		return n
	}
	return v
}

func urlHasPassword(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}

// redactURL hides a URL's password the way prometheus/common's URL does. An unparsable
// URL is hidden whole, since we cannot tell where its password would be.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return secretMark
	}
	return u.Redacted()
}
