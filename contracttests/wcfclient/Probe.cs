// A real WCF DataContract client (Mono's DataContractSerializer and
// DataContractJsonSerializer) with the AppSpace data contracts: it sends
// ValidateToken in XML and JSON as .NET writes them and checks that every
// member of the answers reads back. Run by make wcf-check; the data
// contracts are in Contracts.cs.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using M = Nexus.AppSpace.Service.Contract.Messages;
using T = Nexus.AppSpace.Service.Contract.Messages.Token;

public static class Probe {
  static int failures = 0;
  static void Check(bool ok, string what) { Console.WriteLine((ok ? "ok   " : "FAIL ") + what); if (!ok) failures++; }

  static T.TokenResponse Call(string url, bool xml, string scenario, out int status) {
    var req = new T.TokenRequest { Authentication = new M.Authentication { AccountId = "1042", SecurityToken = "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64" } };
    byte[] body;
    using (var ms = new MemoryStream()) {
      if (xml) new DataContractSerializer(typeof(T.TokenRequest)).WriteObject(ms, req);
      else new DataContractJsonSerializer(typeof(T.TokenRequest)).WriteObject(ms, req);
      body = ms.ToArray();
    }
    Console.WriteLine("  sent: " + Encoding.UTF8.GetString(body));
    var http = (HttpWebRequest)WebRequest.Create(url + "/api/v1/token/request");
    http.Method = "PUT";
    http.ContentType = xml ? "application/xml; charset=utf-8" : "application/json; charset=utf-8";
    http.Accept = xml ? "application/xml" : "application/json";
    if (scenario != null) http.Headers.Add("X-Mock-Scenario", scenario);
    using (var s = http.GetRequestStream()) s.Write(body, 0, body.Length);
    HttpWebResponse resp;
    try { resp = (HttpWebResponse)http.GetResponse(); } catch (WebException e) { resp = (HttpWebResponse)e.Response; }
    status = (int)resp.StatusCode;
    using (var rs = resp.GetResponseStream()) {
      var ms = new MemoryStream(); rs.CopyTo(ms); ms.Position = 0;
      Console.WriteLine("  got " + status + ": " + Encoding.UTF8.GetString(ms.ToArray()));
      if (xml) return (T.TokenResponse)new DataContractSerializer(typeof(T.TokenResponse)).ReadObject(ms);
      return (T.TokenResponse)new DataContractJsonSerializer(typeof(T.TokenResponse)).ReadObject(ms);
    }
  }

  public static int Main(string[] args) {
    string url = args[0];
    foreach (var xml in new[] { true, false }) {
      string f = xml ? "XML" : "JSON";
      int st;
      var r = Call(url, xml, null, out st);
      Check(st == 200, f + " 200");
      Check(r.Status == M.Status.Success, f + " Status read as Success (" + r.Status + ")");
      Check(r.SecurityToken == "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64", f + " SecurityToken intact");
      Check(r.Errors != null && r.Errors.Count == 0, f + " Errors an empty list");
      Check(r.DebugMessage == null, f + " DebugMessage null");
      r = Call(url, xml, "unauthorized", out st);
      Check(st == 401, f + " unauthorized 401");
      Check(r.Status == M.Status.Failure && r.Errors != null && r.Errors.Count == 1 && r.Errors[0].Code == "InvalidToken" && r.Errors[0].Message != null, f + " unauthorized Errors read back");
      r = Call(url, xml, "server-error", out st);
      Check(st == 500 && r.DebugMessage != null && r.Errors[0].StackTrace != null, f + " server-error read back with StackTrace");
      if (xml) {
        r = Call(url, xml, "drift-order", out st);
        Check(r.Status == M.Status.Failure && r.DebugMessage == null, f + " drift-order: the client silently reads Status " + r.Status + " (the drift the scenario shows)");
      }
    }
    Console.WriteLine(failures == 0 ? "ALL OK" : failures + " FAILED");
    return failures == 0 ? 0 : 1;
  }
}
